import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { ctxOf } from '../http/request-context.ts';
import type { ProfessionalActor } from '../modules/access/index.ts';
import { FHIR_JSON_UTF8, type FhirResource } from './common.ts';
import {
  createImmunization,
  IMMUNIZATION_SEARCH_PARAMS,
  readImmunizationById,
  searchImmunizations,
} from './immunization.fhir.ts';
import type { RawQuery } from './search-params.ts';

function send(reply: FastifyReply, status: number, resource: FhirResource): FastifyReply {
  return reply.code(status).type(FHIR_JSON_UTF8).send(JSON.stringify(resource));
}

/** FHIR Immunization: read, search, create. Registered inside the FHIR plugin (its auth hook, parsers and error mapping apply). */
export const immunizationRoutes: FastifyPluginAsync<{
  actorOf: (request: FastifyRequest) => ProfessionalActor;
}> = async (app, { actorOf }) => {
  app.post('/Immunization', async (request, reply) => {
    const ctx = ctxOf(request);
    const { created, resource } = await createImmunization(ctx, actorOf(request), request.body);
    if (created) reply.header('location', `${ctx.config.baseUrl}/fhir/R4/Immunization/${resource.id}`);
    return send(reply, created ? 201 : 200, resource);
  });

  app.get('/Immunization', async (request, reply) =>
    send(reply, 200, await searchImmunizations(ctxOf(request), actorOf(request), request.query as RawQuery)),
  );

  app.get('/Immunization/:id', async (request, reply) => {
    const id = (request.params as { id?: unknown }).id;
    if (typeof id !== 'string' || id.length > 64) throw new AppError('not_found', 'Not found');
    return send(reply, 200, await readImmunizationById(ctxOf(request), actorOf(request), id));
  });
};

/** The CapabilityStatement entries of these routes (spread into capability.ts). */
// A CapabilityStatement.rest.resource element (not a resource: no resourceType), typed as the slot expects.
export const IMMUNIZATION_CAPABILITY: FhirResource[] = [
  {
    resourceType: undefined as unknown as string,
    type: 'Immunization',
    documentation:
      'The vaccination record. status (completed | not-done), vaccineCode (CIS/BDPM, ATC, CVX or text), occurrenceDateTime and patient by INS identifier are required; a subpotent dose is refused. protocolApplied.targetDisease uses urn:carnet:CodeSystem/target-disease; meta.tag gives the author kind. Entries posted by a professional are locked for the patient. An identifier makes creation idempotent.',
    interaction: [{ code: 'read' }, { code: 'create' }, { code: 'search-type' }],
    searchParam: IMMUNIZATION_SEARCH_PARAMS.map((name) => ({
      name,
      type: name === 'date' ? 'date' : name === '_count' ? 'number' : 'token',
    })),
  },
];
