import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

/** Professional sign-in through OpenID Connect, and the local test provider in embedded mode (at the root). */
export const proAuthRoutes: FastifyPluginAsyncZod = async () => {
  // Routes come with the feature.
};
