import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { AppError } from './errors.ts';
import { profileImportRoutes } from './fhir/bundle-import.routes.ts';
import { fhirRoutes } from './fhir/fhir.routes.ts';
import { errorHandler } from './http/errors.ts';
import { csrfGuard } from './http/request-context.ts';
import { historyRoutes } from './modules/access/access.routes.ts';
import { privacyRoutes } from './modules/access/privacy.routes.ts';
import { documentPrivacyRoutes } from './modules/documents/document-privacy.routes.ts';
import { documentRoutes } from './modules/documents/document.routes.ts';
import { PATIENT_MAX_BYTES } from './modules/documents/index.ts';
import { oauthRoutes, sessionRoutes } from './modules/identity/identity.routes.ts';
import { passkeyRoutes } from './modules/identity/passkey.routes.ts';
import { proAuthRoutes } from './modules/identity/pro-auth.routes.ts';
import { signInRoutes } from './modules/identity/signin.routes.ts';
import { accountRoutes } from './modules/accounts/lifecycle.routes.ts';
import { familyRoutes } from './modules/family/family.routes.ts';
import { measurementRoutes } from './modules/measurements/measurements.routes.ts';
import { profileRoutes } from './modules/profile/profile.routes.ts';
import { vaccinationRoutes } from './modules/vaccinations/vaccinations.routes.ts';
import { synthesisRoutes } from './modules/synthesis/synthesis.routes.ts';
import { devMailRoutes, notificationRoutes } from './modules/notifications/index.ts';
import { uuidv7 } from './platform/ids.ts';
import type { Ctx } from './platform/context.ts';

/**
 * Builds the HTTP app from the modules: /api (patient JSON API, OpenAPI at /api/openapi.json),
 * /fhir/R4 (professional software), /oauth/token, /healthz. Routes are thin; errors are mapped
 * in one place (http/errors.ts).
 */
export async function buildApp(ctx: Ctx): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log,
    genReqId: () => uuidv7(),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    // A HEAD would run the GET handler: it must not count as a download (audit, read mark).
    exposeHeadRoutes: false,
  });
  app.decorate('carnet', ctx);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.addHook('onSend', async (_request, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Frame-Options', 'DENY');
  });

  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Carnet patient API',
        version: '0.1.0',
        description: 'The JSON API of a person’s health record.',
      },
      servers: [{ url: ctx.config.baseUrl }],
    },
    // Describes the patient API only: the FHIR endpoint has its own CapabilityStatement (/fhir/R4/metadata).
    transform: (data) =>
      data.url.startsWith('/api/') ? jsonSchemaTransform(data) : { schema: { hide: true }, url: data.url },
  });

  app.get('/healthz', { schema: { hide: true } }, async () => {
    await ctx.rootDb.selectFrom('organizations').select('id').limit(1).execute();
    return { status: 'ok' };
  });

  await app.register(oauthRoutes);
  await app.register(proAuthRoutes);
  await app.register(
    async (api) => {
      api.addHook('preHandler', csrfGuard);
      await api.register(multipart, {
        limits: { fileSize: PATIENT_MAX_BYTES, files: 1, fields: 10, fieldSize: 4096, parts: 12 },
      });
      await api.register(sessionRoutes);
      await api.register(documentRoutes);
      await api.register(historyRoutes);
      await api.register(notificationRoutes);
      await api.register(privacyRoutes);
      await api.register(documentPrivacyRoutes);
      await api.register(signInRoutes);
      await api.register(passkeyRoutes);
      await api.register(accountRoutes);
      await api.register(familyRoutes);
      await api.register(profileRoutes);
      await api.register(measurementRoutes);
      await api.register(vaccinationRoutes);
      await api.register(synthesisRoutes);
      await api.register(profileImportRoutes);
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: '/api' },
  );
  await app.register(fhirRoutes, { prefix: '/fhir/R4' });
  // The local mail outbox (embedded mode): a development page, in demo mode only.
  if (ctx.config.demo) await app.register(devMailRoutes);

  app.setNotFoundHandler((request) => {
    throw new AppError('not_found', `No route ${request.method} ${request.url.split('?')[0]}`);
  });
  // The instance is typed with pino's Logger; callers only need the base interface.
  return app as unknown as FastifyInstance;
}
