import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { Ctx } from '../platform/context.ts';
import {
  recordAuthenticationFailure,
  type PatientActor,
  type ProfessionalActor,
} from '../modules/access/index.ts';
import {
  authenticateBearer,
  csrfTokenFor,
  PRO_SESSION_COOKIE,
  professionalFromProSession,
  resolveSession,
} from '../modules/identity/index.ts';
import type { RepresentativeActor } from '../modules/access/index.ts';
import { timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'carnet_session';
/** Readable by the web app (not HttpOnly): it copies it into the X-CSRF-Token header. */
export const CSRF_COOKIE = 'carnet_csrf';
export const CSRF_HEADER = 'x-csrf-token';
/** Which record a request acts on: absent, one's own; else a person one represents or helps. */
export const PROFILE_HEADER = 'x-carnet-profile';

declare module 'fastify' {
  interface FastifyInstance {
    carnet: Ctx;
  }
}

/** The service context for one request: the app's context plus the request's id and logger. */
export function ctxOf(request: FastifyRequest): Ctx {
  // Fastify's request logger is a pino child logger (loggerInstance is pino).
  return { ...request.server.carnet, requestId: request.id, log: request.log as Ctx['log'] };
}

/**
 * Puts a refused authentication on the audit trail (every denial is audited), then rethrows.
 * Recording is best effort: an unavailable database must not turn a 401 into a 500.
 * @example return await auditedAuthentication(request, 'session', () => resolveSession(ctx, token));
 */
export async function auditedAuthentication<T>(
  request: FastifyRequest,
  credential: 'bearer' | 'session' | 'password' | 'client',
  authenticate: () => Promise<T>,
): Promise<T> {
  try {
    return await authenticate();
  } catch (err) {
    if (err instanceof AppError && err.code === 'unauthenticated') {
      const ctx = ctxOf(request);
      await recordAuthenticationFailure(ctx, {
        credential,
        method: request.method,
        route: request.routeOptions.url ?? 'unknown',
        reason: err.message,
      }).catch((e: unknown) => ctx.log.error({ err: e }, 'could not record a refused authentication'));
    }
    throw err;
  }
}

/** The signed-in patient, from the session cookie; 401 otherwise. */
export async function patientActor(request: FastifyRequest): Promise<PatientActor> {
  return auditedAuthentication(request, 'session', async () => {
    const token = request.cookies[SESSION_COOKIE];
    if (!token) throw new AppError('unauthenticated', 'Please sign in');
    return resolveSession(ctxOf(request), token);
  });
}

/** The professional behind a bearer token; 401 otherwise. */
export async function professionalActor(request: FastifyRequest): Promise<ProfessionalActor> {
  return auditedAuthentication(request, 'bearer', async () => {
    const header = request.headers.authorization;
    // A professional's web session (Pro Santé Connect sign-in) authorises reads only.
    // (cookies is absent on an app without @fastify/cookie, as in unit probes.)
    const web = (request.cookies as Partial<Record<string, string>> | undefined)?.[PRO_SESSION_COOKIE];
    if (!header && web && request.method === 'GET')
      return professionalFromProSession(ctxOf(request), web, request.headers['sec-fetch-site']);
    const match = header ? /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header) : null;
    if (!match?.[1])
      throw new AppError('unauthenticated', 'A bearer access token is required (POST /oauth/token)');
    return authenticateBearer(ctxOf(request), match[1]);
  });
}

export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  expiresAt: Date,
): void {
  const configured = request.server.carnet.config.cookieSecure;
  const secure = configured === 'auto' ? request.protocol === 'https' : configured;
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure,
    expires: expiresAt,
  });
  reply.setCookie(CSRF_COOKIE, csrfTokenFor(request.server.carnet, token), {
    path: '/',
    httpOnly: false,
    sameSite: 'strict',
    secure,
    expires: expiresAt,
  });
}

export function clearSessionCookies(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
  reply.clearCookie(CSRF_COOKIE, { path: '/' });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF protection for /api (a preHandler hook). Every state-changing request:
 * - coming from a browser page of another site (Sec-Fetch-Site cross-site/same-site, or an Origin
 *   that is not ours) is refused, signed in or not (this also stops login CSRF);
 * - carrying a session cookie must carry `X-CSRF-Token` = the session's CSRF token.
 * Requests without a session cookie (sign-in, activation, opposition) rely on the first rule and
 * on SameSite=Strict cookies.
 */
export async function csrfGuard(request: FastifyRequest): Promise<void> {
  if (SAFE_METHODS.has(request.method)) return;
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site')
    throw new AppError('forbidden', 'Cross-site request refused (CSRF protection)');
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== 'null' && !sameOrigin(origin, request)) {
    throw new AppError('forbidden', 'Cross-origin request refused (CSRF protection)');
  }
  if (origin === 'null') throw new AppError('forbidden', 'Request from an opaque origin refused');
  const session = request.cookies[SESSION_COOKIE];
  if (!session) return;
  const given = request.headers[CSRF_HEADER];
  const expected = Buffer.from(csrfTokenFor(request.server.carnet, session));
  const got = Buffer.from(typeof given === 'string' ? given : '');
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
    throw new AppError('forbidden', 'Missing or wrong X-CSRF-Token header (CSRF protection)');
  }
}

function sameOrigin(origin: string, request: FastifyRequest): boolean {
  const base = new URL(request.server.carnet.config.baseUrl).origin;
  if (origin === base) return true;
  // Behind no proxy, the host the browser used is ours too.
  const host = request.headers.host;
  return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
}

/**
 * The signed-in person and the record the request acts on. Without the X-Carnet-Profile header,
 * their own; with it, another person's record, acting as their representative or caregiver — the
 * access decision then checks the relationship (scope, end date) on every action.
 */
export async function recordActor(
  request: FastifyRequest,
): Promise<{ actor: PatientActor | RepresentativeActor; patientId: string; self: PatientActor }> {
  const self = await patientActor(request);
  const profile = request.headers[PROFILE_HEADER];
  if (profile === undefined || profile === '' || profile === self.patientId)
    return { actor: self, patientId: self.patientId, self };
  if (typeof profile !== 'string' || !/^[0-9a-f-]{36}$/i.test(profile))
    throw new AppError('invalid_input', 'X-Carnet-Profile must be a person id', 'X-Carnet-Profile');
  const actor: RepresentativeActor = {
    kind: 'representative',
    personId: self.patientId,
    display: self.display,
    sessionId: self.sessionId,
  };
  return { actor, patientId: profile.toLowerCase(), self };
}
