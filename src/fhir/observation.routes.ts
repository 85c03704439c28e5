import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { ctxOf } from '../http/request-context.ts';
import type { ProfessionalActor } from '../modules/access/index.ts';
import { FHIR_JSON_UTF8, type FhirResource } from './common.ts';
import {
  createObservation,
  OBSERVATION_SEARCH_PARAMS,
  readObservationById,
  searchObservations,
} from './observation.fhir.ts';
import type { RawQuery } from './search-params.ts';

function send(reply: FastifyReply, status: number, resource: FhirResource): FastifyReply {
  return reply.code(status).type(FHIR_JSON_UTF8).send(JSON.stringify(resource));
}

/** FHIR Observation (ANS Mesures de santé): read, search, create. Registered inside the FHIR plugin (its auth hook, parsers and error mapping apply). */
export const observationRoutes: FastifyPluginAsync<{
  actorOf: (request: FastifyRequest) => ProfessionalActor;
}> = async (app, { actorOf }) => {
  app.post('/Observation', async (request, reply) => {
    const ctx = ctxOf(request);
    const { created, resource } = await createObservation(ctx, actorOf(request), request.body);
    if (created)
      reply.header('location', `${ctx.config.baseUrl}/fhir/R4/Observation/${resource.id}/_history/1`);
    return send(reply, created ? 201 : 200, resource);
  });

  app.get('/Observation', async (request, reply) =>
    send(reply, 200, await searchObservations(ctxOf(request), actorOf(request), request.query as RawQuery)),
  );

  app.get('/Observation/:id', async (request, reply) => {
    const id = (request.params as { id?: unknown }).id;
    if (typeof id !== 'string' || id.length > 64) throw new AppError('not_found', 'Not found');
    return send(reply, 200, await readObservationById(ctxOf(request), actorOf(request), id));
  });
};

/** The CapabilityStatement entries of these routes (spread into capability.ts). */
export const OBSERVATION_CAPABILITY: Array<Record<string, unknown>> = [
  {
    type: 'Observation',
    profile: 'http://hl7.org/fhir/StructureDefinition/vitalsigns',
    documentation:
      'Health measurements following the ANS guide Mesures de santé: category vital-signs, LOINC code, valueQuantity in UCUM (a blood-pressure panel in component), effectiveDateTime, subject by INS identifier. A transaction Bundle of a Device and its Observations (POST to the base) is stored all or nothing.',
    interaction: [{ code: 'read' }, { code: 'create' }, { code: 'search-type' }],
    searchParam: OBSERVATION_SEARCH_PARAMS.map((name) => ({
      name,
      type: name === 'date' ? 'date' : name === '_count' ? 'number' : 'token',
    })),
  },
];
