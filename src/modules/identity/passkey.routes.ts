import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import {
  auditedAuthentication,
  ctxOf,
  patientActor,
  SESSION_COOKIE,
  setSessionCookie,
} from '../../http/request-context.ts';
import { csrfTokenFor } from './identity.service.ts';
import { listPasskeys, renamePasskey, revokePasskey } from './passkey-devices.ts';
import { MAX_PASSKEY_NAME } from './passkey.ts';
import {
  finishPasskeyRegistration,
  finishPasskeySignIn,
  resolvePasskeyRegistrant,
  startPasskeyRegistration,
  startPasskeySignIn,
  type PasskeyRegistrant,
} from './passkey.service.ts';

const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

const b64url = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');

const credentialBase = {
  id: b64url(1400),
  rawId: b64url(1400),
  type: z.literal('public-key'),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
};

/** RegistrationResponseJSON (WebAuthn Level 3 §5.1, as PublicKeyCredential.toJSON() gives it). */
const registrationCredential = z.object({
  ...credentialBase,
  response: z.object({
    clientDataJSON: b64url(4000),
    attestationObject: b64url(40_000),
    authenticatorData: b64url(40_000).optional(),
    transports: z.array(z.string().max(32)).max(10).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: b64url(8000).optional(),
  }),
});

/** AuthenticationResponseJSON. */
const authenticationCredential = z.object({
  ...credentialBase,
  response: z.object({
    clientDataJSON: b64url(4000),
    authenticatorData: b64url(8000),
    signature: b64url(8000),
    userHandle: b64url(200).optional(),
  }),
});

const passkeySchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  backedUp: z.boolean(),
});

const sessionSchema = z.object({ patientId: z.string(), expiresAt: z.string(), csrfToken: z.string() });

/** Options handed to navigator.credentials.create()/get() (base64url strings, as JSON). */
const optionsSchema = z.looseObject({ challenge: z.string(), timeout: z.number().optional() });

const idParams = z.object({ id: z.uuid() });

/** The signed-in person, or the person activating their space; 401 (audited) otherwise. */
function registrant(request: FastifyRequest): Promise<PasskeyRegistrant> {
  return auditedAuthentication(request, 'session', async () => {
    const token = request.cookies[SESSION_COOKIE];
    if (!token) throw new AppError('unauthenticated', 'Please sign in');
    return resolvePasskeyRegistrant(ctxOf(request), token);
  });
}

function deviceFacts(request: FastifyRequest) {
  return { userAgent: request.headers['user-agent'], ip: request.ip };
}

/** Passkeys: registration, sign-in, list, revocation (under /api). */
export const passkeyRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/passkeys/registration/options',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'Options to create a passkey (signed in, or while activating the space)',
        response: { 200: optionsSchema, 401: apiError, 403: apiError },
      },
    },
    async (request) => ({ ...(await startPasskeyRegistration(ctxOf(request), await registrant(request))) }),
  );

  app.post(
    '/passkeys/registration',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'Adds the passkey the browser created; during activation, completes it and signs in',
        body: z
          .object({ credential: registrationCredential, name: z.string().max(MAX_PASSKEY_NAME).optional() })
          .strict(),
        response: {
          201: z.object({ passkey: passkeySchema, session: sessionSchema.optional() }),
          400: apiError,
          401: apiError,
          409: apiError,
        },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const who = await registrant(request);
      const done = await finishPasskeyRegistration(ctx, who, request.body, deviceFacts(request));
      if (!done.session) return reply.status(201).send({ passkey: done.passkey });
      setSessionCookie(request, reply, done.session.token, done.session.expiresAt);
      return reply.status(201).send({
        passkey: done.passkey,
        session: {
          patientId: who.patientId,
          expiresAt: done.session.expiresAt.toISOString(),
          csrfToken: csrfTokenFor(ctx, done.session.token),
        },
      });
    },
  );

  app.post(
    '/passkeys/authentication/options',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'Options to sign in with a passkey (names no one: the browser offers its passkeys)',
        response: { 200: optionsSchema },
      },
    },
    async (request) => ({ ...(await startPasskeySignIn(ctxOf(request))) }),
  );

  app.post(
    '/passkeys/authentication',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'Signs in with a passkey (sets an HttpOnly session cookie)',
        body: z.object({ credential: authenticationCredential }).strict(),
        response: { 200: sessionSchema, 401: apiError },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const s = await finishPasskeySignIn(ctx, request.body.credential, {
        ...deviceFacts(request),
        route: request.routeOptions.url ?? '/api/passkeys/authentication',
      });
      setSessionCookie(request, reply, s.token, s.expiresAt);
      return {
        patientId: s.patientId,
        expiresAt: s.expiresAt.toISOString(),
        csrfToken: csrfTokenFor(ctx, s.token),
      };
    },
  );

  app.get(
    '/passkeys',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'My passkeys',
        response: { 200: z.object({ items: z.array(passkeySchema) }), 401: apiError },
      },
    },
    async (request) => {
      const actor = await patientActor(request);
      return { items: await listPasskeys(ctxOf(request), actor.patientId) };
    },
  );

  app.patch(
    '/passkeys/:id',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'Renames one of my passkeys',
        params: idParams,
        body: z.object({ name: z.string().trim().min(1).max(MAX_PASSKEY_NAME) }).strict(),
        response: { 200: passkeySchema, 400: apiError, 401: apiError, 404: apiError },
      },
    },
    async (request) => {
      const actor = await patientActor(request);
      return renamePasskey(ctxOf(request), actor, request.params.id, request.body.name);
    },
  );

  app.delete(
    '/passkeys/:id',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'Revokes one of my passkeys',
        params: idParams,
        response: { 204: z.null(), 401: apiError, 404: apiError },
      },
    },
    async (request, reply) => {
      const actor = await patientActor(request);
      await revokePasskey(ctxOf(request), actor, request.params.id);
      return reply.status(204).send(null);
    },
  );
};
