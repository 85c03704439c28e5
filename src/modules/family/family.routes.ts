import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

/** Profiles one may act on, invitations of representatives and caregivers (under /api). */
export const familyRoutes: FastifyPluginAsyncZod = async () => {
  // Routes come with the feature.
};
