import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

/** Opposition (anonymous), closure, re-opening, erasure request (under /api). */
export const accountRoutes: FastifyPluginAsyncZod = async () => {
  // Routes come with the feature.
};
