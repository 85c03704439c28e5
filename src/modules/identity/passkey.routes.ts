import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

/** Passkeys: registration, sign-in, list, revocation (under /api). */
export const passkeyRoutes: FastifyPluginAsyncZod = async () => {
  // Routes come with the feature.
};
