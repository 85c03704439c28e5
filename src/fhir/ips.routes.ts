import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ctxOf } from '../http/request-context.ts';
import type { ProfessionalActor } from '../modules/access/index.ts';
import { FHIR_JSON_UTF8 } from './common.ts';
import { patientSummary } from './ips.ts';
import type { RawQuery } from './search-params.ts';

/** Patient/$summary (IPS): registered inside the FHIR plugin (its auth hook, parsers and error mapping apply). */
export const ipsRoutes: FastifyPluginAsync<{
  actorOf: (request: FastifyRequest) => ProfessionalActor;
}> = async (app, { actorOf }) => {
  app.get('/Patient/$summary', async (request, reply) => {
    const bundle = await patientSummary(ctxOf(request), actorOf(request), request.query as RawQuery);
    return reply.code(200).type(FHIR_JSON_UTF8).send(JSON.stringify(bundle));
  });
};

/** Operations on Patient advertised in the CapabilityStatement (spread into its Patient entry). */
export const IPS_CAPABILITY: Array<Record<string, unknown>> = [
  {
    name: 'summary',
    definition: 'http://hl7.org/fhir/uv/ips/OperationDefinition/summary',
    documentation:
      'GET Patient/$summary?identifier=<INS system|value>: a document Bundle in the spirit of the International Patient Summary (allergies, problems, medications, immunizations, latest vital signs, procedures, family history, functional status, blood group, social history). Each entry carries its provenance as a meta.tag in urn:carnet:CodeSystem/author-kind (patient | representative | app | professional | import). Only for professionals in a live care relationship who are not blocked; anyone else gets 404.',
  },
];
