import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { auditedAuthentication, ctxOf } from '../../http/request-context.ts';
import { oidcTestProviderRoutes } from './oidc-test-provider.routes.ts';
import { PAGE_CSP, proErrorPage, proHomePage } from './pro-pages.ts';
import {
  PRO_LOGIN_COOKIE,
  PRO_LOGIN_TTL_MINUTES,
  PRO_SESSION_COOKIE,
  endProSession,
  finishProLogin,
  resolveProSession,
  startProLogin,
} from './pro-signin.ts';
import { ThrottledError } from './throttle.ts';

const FORM = 'application/x-www-form-urlencoded';

const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

function secureCookies(request: FastifyRequest): boolean {
  const configured = request.server.carnet.config.cookieSecure;
  return configured === 'auto' ? request.protocol === 'https' : configured;
}

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('Content-Security-Policy', PAGE_CSP)
    .header('Cache-Control', 'no-store')
    .send(body);
}

/**
 * Sign-out is state-changing and cookie-authenticated: only from Carnet's own pages (Fetch Metadata,
 * else Origin). Without either header (not a browser), a cookie cannot have been sent by a foreign page.
 */
function sameOriginOnly(request: FastifyRequest): void {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    throw new AppError('forbidden', 'Cross-site request refused (CSRF protection)');
  const origin = request.headers.origin;
  if (origin === undefined) return;
  const base = new URL(request.server.carnet.config.baseUrl).origin;
  const host = request.headers.host;
  const ours =
    origin === base || (host !== undefined && (origin === `http://${host}` || origin === `https://${host}`));
  if (!ours) throw new AppError('forbidden', 'Cross-origin request refused (CSRF protection)');
}

/**
 * Professional sign-in through OpenID Connect (Pro Santé Connect), at the root: /pro/login,
 * /pro/callback, /pro/me, /pro/logout and the /pro/ page; plus, when configured, the local test
 * provider under /dev/oidc. There is no password sign-in for professionals.
 */
export const proAuthRoutes: FastifyPluginAsyncZod = async (app) => {
  if (!app.hasContentTypeParser(FORM)) {
    app.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 8192 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
  }
  if (app.carnet.config.proOidc?.testProvider) await app.register(oidcTestProviderRoutes);

  app.get('/pro/login', { schema: { hide: true } }, async (request, reply) => {
    const started = await startProLogin(ctxOf(request), request.server);
    void reply.setCookie(PRO_LOGIN_COOKIE, started.binding, {
      path: '/pro',
      httpOnly: true,
      // Lax: the provider's redirect back to /pro/callback is a cross-site top-level navigation.
      sameSite: 'lax',
      secure: secureCookies(request),
      maxAge: PRO_LOGIN_TTL_MINUTES * 60,
    });
    return reply.header('Cache-Control', 'no-store').redirect(started.redirectTo.href, 303);
  });

  app.get('/pro/callback', { schema: { hide: true } }, async (request, reply) => {
    const ctx = ctxOf(request);
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    reply.clearCookie(PRO_LOGIN_COOKIE, { path: '/pro' });
    try {
      const previous = request.cookies[PRO_SESSION_COOKIE];
      const done = await finishProLogin(ctx, request.server, {
        binding: request.cookies[PRO_LOGIN_COOKIE],
        query,
        meta: { userAgent: request.headers['user-agent'], ip: request.ip },
      });
      // A new sign-in replaces the browser's previous session (rotated, never reused).
      if (previous) await endProSession(ctx, previous);
      void reply.setCookie(PRO_SESSION_COOKIE, done.token, {
        path: '/',
        httpOnly: true,
        // Lax so that the redirect chain from the provider lands signed in; the cookie only
        // authorises reads (GET) and those refuse cross-site requests (Sec-Fetch-Site).
        sameSite: 'lax',
        secure: secureCookies(request),
        expires: done.expiresAt,
      });
      return reply.header('Cache-Control', 'no-store').redirect('/pro/', 303);
    } catch (err) {
      if (err instanceof ThrottledError) {
        void reply.header('Retry-After', String(err.retryAfterSeconds));
        return html(reply, 429, proErrorPage(429, err.message));
      }
      if (err instanceof AppError && (err.code === 'forbidden' || err.code === 'unavailable'))
        return html(
          reply,
          err.code === 'forbidden' ? 403 : 503,
          proErrorPage(err.code === 'forbidden' ? 403 : 503, err.message),
        );
      throw err;
    }
  });

  app.get(
    '/pro/me',
    {
      schema: {
        hide: true,
        response: {
          200: z.object({
            id: z.string(),
            rpps: z.string(),
            idnps: z.string(),
            given: z.string(),
            family: z.string(),
            professionCode: z.string(),
            specialtyCode: z.string().nullable(),
            organization: z.object({ id: z.string(), name: z.string(), kind: z.string() }).nullable(),
            expiresAt: z.string(),
          }),
          401: apiError,
        },
      },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const s = await auditedAuthentication(request, 'session', async () => {
        const token = request.cookies[PRO_SESSION_COOKIE];
        if (!token) throw new AppError('unauthenticated', 'Please sign in with Pro Santé Connect');
        return resolveProSession(ctx, token);
      });
      void reply.header('Cache-Control', 'no-store');
      return { ...s.professional, organization: s.organization, expiresAt: s.expiresAt.toISOString() };
    },
  );

  app.post('/pro/logout', { schema: { hide: true } }, async (request, reply) => {
    sameOriginOnly(request);
    const token = request.cookies[PRO_SESSION_COOKIE];
    if (token) await endProSession(ctxOf(request), token);
    reply.clearCookie(PRO_SESSION_COOKIE, { path: '/' });
    return reply.redirect('/pro/', 303);
  });

  app.get('/pro/', { schema: { hide: true } }, async (request, reply) => {
    const token = request.cookies[PRO_SESSION_COOKIE];
    const session = token
      ? await resolveProSession(ctxOf(request), token).catch((err: unknown) => {
          if (err instanceof AppError && err.code === 'unauthenticated') return undefined;
          throw err;
        })
      : undefined;
    return html(reply, 200, proHomePage(session));
  });
};
