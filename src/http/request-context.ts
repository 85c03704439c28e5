import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { Ctx } from '../platform/context.ts';
import type { PatientActor, ProfessionalActor } from '../modules/access/index.ts';
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

/** The signed-in patient, from the session cookie; 401 otherwise. */
export async function patientActor(request: FastifyRequest): Promise<PatientActor> {
  const token = request.cookies[SESSION_COOKIE];
  if (!token) throw new AppError('unauthenticated', 'Please sign in');
  return resolveSession(ctxOf(request), token);
}

/** The professional behind a bearer token; 401 otherwise. */
export async function professionalActor(request: FastifyRequest): Promise<ProfessionalActor> {
  const header = request.headers.authorization;
  const match = header ? /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header) : null;
  if (!match?.[1])
    throw new AppError('unauthenticated', 'A bearer access token is required (POST /oauth/token)');
  return authenticateBearer(ctxOf(request), match[1]);
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
