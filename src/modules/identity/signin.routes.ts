import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

/** Activation, sign-in with a second factor, sessions and devices (under /api). */
export const signInRoutes: FastifyPluginAsyncZod = async () => {
  // Routes come with the feature.
};
