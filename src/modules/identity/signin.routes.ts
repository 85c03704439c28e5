import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import {
  auditedAuthentication,
  clearSessionCookies,
  ctxOf,
  patientActor,
  SESSION_COOKIE,
  setSessionCookie,
} from '../../http/request-context.ts';
import { sendAccountMail } from '../notifications/index.ts';
import {
  chooseCredentials,
  confirmEnrolmentFactor,
  enrolmentStatus,
  resolveEnrolment,
  startActivation,
  startEnrolmentEmail,
  startEnrolmentTotp,
  type Enrolment,
  type EnrolmentStep,
} from './enrolment.ts';
import { csrfTokenFor, type SessionMeta } from './identity.service.ts';
import { completeSecondFactor } from './second-factor-signin.ts';
import { maskEmail, type OutgoingMail } from './second-factor.ts';
import {
  changePassword,
  confirmOwnSecondFactor,
  getSecurity,
  removeOwnSecondFactor,
  revokeOwnSession,
  revokeOwnSessions,
  startOwnEmailFactor,
  startOwnTotp,
  type SecurityActor,
} from './security.ts';

const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});
const signedIn = z.object({ patientId: z.string(), expiresAt: z.string(), csrfToken: z.string() });
const step = z.union([
  z.object({ complete: z.literal(false), password: z.boolean(), secondFactor: z.boolean() }),
  z.object({
    complete: z.literal(true),
    patientId: z.string(),
    expiresAt: z.string(),
    csrfToken: z.string(),
  }),
]);
const code = z.object({ code: z.string().trim().min(4).max(20) }).strict();
const totpStart = z.object({ id: z.string(), secret: z.string(), otpauthUri: z.string() });
const idParam = z.object({ id: z.uuid() });

function meta(request: FastifyRequest): SessionMeta {
  return { userAgent: request.headers['user-agent'], ip: request.ip };
}

/** The enrolment (activation) session of the cookie; 401 (audited) otherwise. */
async function enrolmentOf(request: FastifyRequest): Promise<Enrolment> {
  return auditedAuthentication(request, 'session', async () => {
    const token = request.cookies[SESSION_COOKIE];
    if (!token)
      throw new AppError('unauthenticated', 'No activation in progress: start again with your code');
    return resolveEnrolment(ctxOf(request), token);
  });
}

async function securityActor(request: FastifyRequest): Promise<SecurityActor> {
  const a = await patientActor(request);
  return { patientId: a.patientId, sessionId: a.sessionId, display: a.display };
}

function signInAnswer(
  request: FastifyRequest,
  reply: FastifyReply,
  s: { token: string; expiresAt: Date; patientId: string },
) {
  setSessionCookie(request, reply, s.token, s.expiresAt);
  return {
    patientId: s.patientId,
    expiresAt: s.expiresAt.toISOString(),
    csrfToken: csrfTokenFor(ctxOf(request), s.token),
  };
}

function stepAnswer(request: FastifyRequest, reply: FastifyReply, s: EnrolmentStep) {
  if (!s.complete) return s;
  return { complete: true as const, ...signInAnswer(request, reply, s.session) };
}

type ZodApp = Parameters<FastifyPluginAsyncZod>[0];
type FactorKind = 'totp' | 'email';

/**
 * The second-factor routes of one place (activation, security page): start and confirm an
 * authenticator app, start and confirm e-mailed codes. The places differ only in who acts, the
 * wording and what a confirmation answers.
 */
interface SecondFactorRoutes<Who, Confirmed extends z.ZodType> {
  tag: string;
  /** Where each kind starts; it is confirmed at `<path>/confirm`. */
  paths: Record<FactorKind, string>;
  summaries: Record<FactorKind | `${FactorKind}Confirm`, string>;
  who: (request: FastifyRequest) => Promise<Who>;
  startTotp: (ctx: Ctx, who: Who) => Promise<z.infer<typeof totpStart>>;
  startEmail: (ctx: Ctx, who: Who, email: string) => Promise<OutgoingMail>;
  /** The 200 answer of a confirmation. */
  confirmed: Confirmed;
  confirm: (
    request: FastifyRequest,
    reply: FastifyReply,
    who: Who,
    kind: FactorKind,
    code: string,
  ) => Promise<z.infer<Confirmed>>;
}

function secondFactorRoutes<Who, Confirmed extends z.ZodType>(
  app: ZodApp,
  r: SecondFactorRoutes<Who, Confirmed>,
): void {
  // Widened for Fastify's inference (the interface already ties `confirm` to `confirmed`).
  const confirmed: z.ZodType = r.confirmed;
  const confirmRoute = (kind: FactorKind) =>
    app.post(
      `${r.paths[kind]}/confirm`,
      {
        schema: {
          tags: [r.tag],
          summary: r.summaries[`${kind}Confirm`],
          body: code,
          response: { 200: confirmed, 400: apiError, 401: apiError, 429: apiError },
        },
      },
      async (request, reply) => r.confirm(request, reply, await r.who(request), kind, request.body.code),
    );

  app.post(
    r.paths.totp,
    { schema: { tags: [r.tag], summary: r.summaries.totp, response: { 200: totpStart, 401: apiError } } },
    async (request) => r.startTotp(ctxOf(request), await r.who(request)),
  );
  confirmRoute('totp');

  app.post(
    r.paths.email,
    {
      schema: {
        tags: [r.tag],
        summary: r.summaries.email,
        body: z.object({ email: z.email().max(200) }).strict(),
        response: { 202: z.object({ sentTo: z.string() }), 400: apiError, 401: apiError },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const mail = await r.startEmail(ctx, await r.who(request), request.body.email);
      await sendAccountMail(ctx.config, mail);
      return reply.status(202).send({ sentTo: maskEmail(mail.to) });
    },
  );
  confirmRoute('email');
}

/** Activation, sign-in with a second factor, sessions and devices (under /api). */
export const signInRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/session/second-factor',
    {
      schema: {
        tags: ['session'],
        summary: 'Second step of a sign-in: the TOTP or e-mailed code (rotates the session cookie)',
        body: code,
        response: { 200: signedIn, 401: apiError, 429: apiError },
      },
    },
    async (request, reply) => {
      const s = await auditedAuthentication(request, 'session', async () => {
        const token = request.cookies[SESSION_COOKIE];
        if (!token) throw new AppError('unauthenticated', 'Please sign in again');
        return completeSecondFactor(ctxOf(request), token, request.body.code, meta(request));
      });
      return signInAnswer(request, reply, s);
    },
  );

  app.post(
    '/activation',
    {
      schema: {
        tags: ['activation'],
        summary: 'Start activating a space: provisional code, matricule, health-card serial',
        body: z
          .object({
            code: z.string().trim().min(1).max(40),
            matricule: z.string().trim().min(1).max(30),
            cardSerial: z.string().trim().min(1).max(40),
          })
          .strict(),
        response: {
          200: z.object({ expiresAt: z.string(), csrfToken: z.string() }),
          401: apiError,
          429: apiError,
        },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const s = await startActivation(ctx, request.body, meta(request));
      setSessionCookie(request, reply, s.token, s.expiresAt);
      return { expiresAt: s.expiresAt.toISOString(), csrfToken: csrfTokenFor(ctx, s.token) };
    },
  );

  app.get(
    '/activation',
    {
      schema: {
        tags: ['activation'],
        summary: 'Where the activation in progress stands',
        response: {
          200: z.object({ complete: z.literal(false), password: z.boolean(), secondFactor: z.boolean() }),
          401: apiError,
        },
      },
    },
    async (request) => enrolmentStatus(ctxOf(request), await enrolmentOf(request)),
  );

  app.post(
    '/activation/password',
    {
      schema: {
        tags: ['activation'],
        summary: 'Choose the login (an e-mail address) and the password',
        body: z.object({ login: z.email().max(200), password: z.string().min(1).max(500) }).strict(),
        response: { 200: step, 400: apiError, 401: apiError, 409: apiError },
      },
    },
    async (request, reply) => {
      const enrolment = await enrolmentOf(request);
      const s = await chooseCredentials(ctxOf(request), enrolment, request.body, meta(request));
      return stepAnswer(request, reply, s);
    },
  );

  secondFactorRoutes(app, {
    tag: 'activation',
    paths: { totp: '/activation/totp', email: '/activation/email-otp' },
    summaries: {
      totp: 'Enrol an authenticator app: a new TOTP seed (base32) and its otpauth URI',
      totpConfirm: 'Confirm the authenticator app with a first code',
      email: 'Enrol one-time codes by e-mail: sends a code to the address',
      emailConfirm: 'Confirm the e-mail address with the code received',
    },
    who: enrolmentOf,
    startTotp: startEnrolmentTotp,
    startEmail: startEnrolmentEmail,
    confirmed: step,
    confirm: async (request, reply, enrolment, kind, code) =>
      stepAnswer(
        request,
        reply,
        await confirmEnrolmentFactor(ctxOf(request), enrolment, kind, code, meta(request)),
      ),
  });

  app.get(
    '/account/security',
    {
      schema: {
        tags: ['account'],
        summary: 'Signed-in sessions (devices) and second factors',
        response: {
          200: z.object({
            sessions: z.array(
              z.object({
                id: z.string(),
                createdAt: z.string(),
                lastSeenAt: z.string().nullable(),
                expiresAt: z.string(),
                userAgent: z.string().nullable(),
                ip: z.string().nullable(),
                authMethod: z.string().nullable(),
                current: z.boolean(),
              }),
            ),
            secondFactors: z.array(
              z.object({
                id: z.string(),
                kind: z.enum(['totp', 'email']),
                label: z.string(),
                createdAt: z.string(),
                lastUsedAt: z.string().nullable(),
              }),
            ),
            hasPassword: z.boolean(),
          }),
          401: apiError,
        },
      },
    },
    async (request) => {
      const s = await getSecurity(ctxOf(request), await securityActor(request));
      return {
        hasPassword: s.hasPassword,
        sessions: s.sessions.map((x) => ({
          ...x,
          createdAt: x.createdAt.toISOString(),
          lastSeenAt: x.lastSeenAt?.toISOString() ?? null,
          expiresAt: x.expiresAt.toISOString(),
        })),
        secondFactors: s.secondFactors.map((f) => ({
          ...f,
          createdAt: f.createdAt.toISOString(),
          lastUsedAt: f.lastUsedAt?.toISOString() ?? null,
        })),
      };
    },
  );

  app.delete(
    '/account/sessions/:id',
    {
      schema: {
        tags: ['account'],
        summary: 'Revoke one of my sessions (signs that device out)',
        params: idParam,
        response: { 204: z.null(), 401: apiError, 404: apiError },
      },
    },
    async (request, reply) => {
      const r = await revokeOwnSession(ctxOf(request), await securityActor(request), request.params.id);
      if (r.current) clearSessionCookies(reply);
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/account/sessions',
    {
      schema: {
        tags: ['account'],
        summary: 'Revoke all my other sessions (all of them with includeCurrent=true)',
        querystring: z.object({ includeCurrent: z.enum(['true', 'false']).optional() }).strict(),
        response: { 200: z.object({ revoked: z.number().int() }), 401: apiError },
      },
    },
    async (request, reply) => {
      const includeCurrent = request.query.includeCurrent === 'true';
      const revoked = await revokeOwnSessions(ctxOf(request), await securityActor(request), includeCurrent);
      if (includeCurrent) clearSessionCookies(reply);
      return { revoked };
    },
  );

  app.delete(
    '/account/second-factors/:id',
    {
      schema: {
        tags: ['account'],
        summary: 'Remove a second factor (not the last one while a password exists)',
        params: idParam,
        response: { 204: z.null(), 401: apiError, 404: apiError, 409: apiError },
      },
    },
    async (request, reply) => {
      await removeOwnSecondFactor(ctxOf(request), await securityActor(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  secondFactorRoutes(app, {
    tag: 'account',
    paths: { totp: '/account/second-factors/totp', email: '/account/second-factors/email' },
    summaries: {
      totp: 'Add an authenticator app: a new TOTP seed and its otpauth URI',
      totpConfirm: 'Confirm the authenticator app being added with a first code',
      email: 'Add one-time codes by e-mail: sends a code to the address',
      emailConfirm: 'Confirm the e-mail address being added with the code received',
    },
    who: securityActor,
    startTotp: startOwnTotp,
    startEmail: startOwnEmailFactor,
    confirmed: z.object({ id: z.string() }),
    confirm: async (request, _reply, actor, kind, code) =>
      confirmOwnSecondFactor(ctxOf(request), actor, kind, code, meta(request)),
  });

  app.post(
    '/account/password',
    {
      schema: {
        tags: ['account'],
        summary: 'Change my password (signs every other session out; rotates this one)',
        body: z.object({ current: z.string().min(1).max(500), new: z.string().min(1).max(500) }).strict(),
        response: {
          200: z.object({ expiresAt: z.string(), csrfToken: z.string() }),
          400: apiError,
          401: apiError,
          429: apiError,
        },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const s = await changePassword(
        ctx,
        await securityActor(request),
        { current: request.body.current, next: request.body.new },
        meta(request),
      );
      setSessionCookie(request, reply, s.token, s.expiresAt);
      return { expiresAt: s.expiresAt.toISOString(), csrfToken: csrfTokenFor(ctx, s.token) };
    },
  );
};
