import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import {
  auditedAuthentication,
  clearSessionCookies,
  ctxOf,
  patientActor,
  SESSION_COOKIE,
  setSessionCookie,
} from '../../http/request-context.ts';
import { sendAccountMail } from '../notifications/index.ts';
import { csrfTokenFor, getPatient, issueToken, signIn, signOut } from './identity.service.ts';

const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

/**
 * Patient sign-in and who am I. `POST /session` checks the password; when the person has a second
 * factor it answers `{ secondFactor }` with a short pending cookie, completed by
 * `POST /session/second-factor` (signin.routes.ts). 429 with Retry-After once throttled.
 */
export const sessionRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/session',
    {
      schema: {
        tags: ['session'],
        summary: 'Sign in with a password (sets an HttpOnly session cookie; may ask for a second factor)',
        body: z.object({ login: z.string().min(1).max(200), password: z.string().min(1).max(500) }).strict(),
        response: {
          200: z.union([
            z.object({ patientId: z.string(), expiresAt: z.string(), csrfToken: z.string() }),
            z.object({
              secondFactor: z.enum(['totp', 'email']),
              expiresAt: z.string(),
              csrfToken: z.string(),
            }),
          ]),
          401: apiError,
          429: apiError,
        },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const s = await auditedAuthentication(request, 'password', () =>
        signIn(ctx, request.body.login, request.body.password, {
          userAgent: request.headers['user-agent'],
          ip: request.ip,
        }),
      );
      if (s.kind === 'second_factor' && s.mail) await sendAccountMail(ctx.config, s.mail);
      setSessionCookie(request, reply, s.token, s.expiresAt);
      const common = { expiresAt: s.expiresAt.toISOString(), csrfToken: csrfTokenFor(ctx, s.token) };
      return s.kind === 'signed_in'
        ? { patientId: s.patientId, ...common }
        : { secondFactor: s.secondFactor, ...common };
    },
  );

  app.delete(
    '/session',
    {
      schema: {
        tags: ['session'],
        summary: 'Sign out (revokes the session, whatever its state)',
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE];
      if (token) await signOut(ctxOf(request), token);
      clearSessionCookies(reply);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/me',
    {
      schema: {
        tags: ['session'],
        summary: 'The signed-in person',
        response: {
          200: z.object({
            id: z.string(),
            given: z.string(),
            family: z.string(),
            birthDate: z.string(),
            ins: z.object({ matricule: z.string(), oid: z.string() }),
          }),
          401: apiError,
        },
      },
    },
    async (request) => {
      const actor = await patientActor(request);
      const p = await getPatient(ctxOf(request), actor.patientId);
      if (!p) throw new AppError('unauthenticated', 'Please sign in');
      return { id: p.id, given: p.given, family: p.family, birthDate: p.birthDate, ins: p.ins };
    },
  );
};

/**
 * Basic credentials are form-urlencoded before base64 (RFC 6749 §2.3.1): '+' is a space, %XX an
 * octet. Returns undefined for malformed escapes.
 */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/** OAuth2 token endpoint, client credentials grant only (RFC 6749 §4.4). Errors follow RFC 6749 §5.2. */
export const oauthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4096 },
    (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );
  app.post('/oauth/token', { schema: { hide: true } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, string | undefined>;
    void reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    let clientId = body.client_id;
    let clientSecret = body.client_secret;
    const basic = /^Basic (.+)$/i.exec(request.headers.authorization ?? '');
    if (basic?.[1]) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) {
        // Malformed escapes leave the credentials empty: refused below as invalid_client, not a 500.
        clientId = formDecode(decoded.slice(0, i));
        clientSecret = formDecode(decoded.slice(i + 1));
      }
    }
    if (body.grant_type !== 'client_credentials') {
      return reply
        .status(400)
        .send({ error: 'unsupported_grant_type', error_description: 'Only client_credentials is supported' });
    }
    const missing = !clientId || !clientSecret;
    try {
      return await auditedAuthentication(request, 'client', async () => {
        if (!clientId || !clientSecret)
          throw new AppError('unauthenticated', 'Client authentication is required');
        return issueToken(ctxOf(request), clientId, clientSecret);
      });
    } catch (err) {
      if (err instanceof AppError && err.code === 'unauthenticated') {
        if (missing) {
          return reply
            .status(401)
            .send({ error: 'invalid_client', error_description: 'Client authentication is required' });
        }
        return reply
          .status(401)
          .header('WWW-Authenticate', 'Basic realm="carnet"')
          .send({ error: 'invalid_client', error_description: 'Client authentication failed' });
      }
      throw err;
    }
  });
};
