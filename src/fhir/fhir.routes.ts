import type { FastifyPluginAsync } from 'fastify';

/** FHIR R4 endpoint (PDSm). Being written. */
export const fhirRoutes: FastifyPluginAsync = async () => {};
