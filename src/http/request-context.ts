import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { Ctx } from '../platform/context.ts';
import {
  recordAuthenticationFailure,
  type PatientActor,
  type ProfessionalActor,
} from '../modules/access/index.ts';
import { authenticateBearer, resolveSession } from '../modules/identity/index.ts';

export const SESSION_COOKIE = 'carnet_session';

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
}
