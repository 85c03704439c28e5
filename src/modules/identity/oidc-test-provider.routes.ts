import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AppError } from '../../errors.ts';
import { ctxOf } from '../../http/request-context.ts';
import {
  OAuthEndpointError,
  TEST_PROVIDER_PATH,
  checkAuthorizeRequest,
  deniedRedirect,
  exchangeTestCode,
  issueTestCode,
  testProviderJwks,
  testProviderMetadata,
  testProviderProfessionals,
  testUserInfo,
} from './oidc-test-provider.ts';
import { PAGE_CSP, testProviderErrorPage, testProviderLoginPage } from './pro-pages.ts';

/**
 * The local OpenID Connect TEST provider's endpoints, under /dev/oidc (see oidc-test-provider.ts).
 * Registered only when `config.proOidc.testProvider` is on. Expects a form-urlencoded body parser.
 */
export const oidcTestProviderRoutes: FastifyPluginAsyncZod = async (app) => {
  const base = TEST_PROVIDER_PATH;
  const html = (reply: FastifyReply, status: number, body: string) =>
    reply
      .status(status)
      .type('text/html; charset=utf-8')
      .header('Content-Security-Policy', PAGE_CSP)
      .header('Cache-Control', 'no-store')
      .send(body);

  app.get(`${base}/.well-known/openid-configuration`, { schema: { hide: true } }, async (request) =>
    testProviderMetadata(ctxOf(request).config),
  );

  app.get(`${base}/jwks`, { schema: { hide: true } }, async (request) => testProviderJwks(ctxOf(request)));

  app.get(`${base}/authorize`, { schema: { hide: true } }, async (request, reply) => {
    const ctx = ctxOf(request);
    try {
      const checked = checkAuthorizeRequest(ctx, request.query as Record<string, unknown>);
      return html(reply, 200, testProviderLoginPage(checked, await testProviderProfessionals(ctx)));
    } catch (err) {
      if (err instanceof AppError && err.code === 'invalid_input')
        return html(reply, 400, testProviderErrorPage(err.message));
      throw err;
    }
  });

  app.post(`${base}/authorize`, { schema: { hide: true } }, async (request, reply) => {
    const ctx = ctxOf(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      const checked = checkAuthorizeRequest(ctx, body);
      if (body.cancel !== undefined) return reply.redirect(deniedRedirect(ctx.config, checked).href, 303);
      const other = typeof body.other_rpps === 'string' ? body.other_rpps.trim() : '';
      const chosen = other !== '' ? other : typeof body.rpps === 'string' ? body.rpps : '';
      return reply.redirect((await issueTestCode(ctx, checked, chosen)).href, 303);
    } catch (err) {
      if (err instanceof AppError && err.code === 'invalid_input')
        return html(reply, 400, testProviderErrorPage(err.message));
      throw err;
    }
  });

  app.post(`${base}/token`, { schema: { hide: true } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, string | undefined>;
    void reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    let clientId = body.client_id;
    let clientSecret = body.client_secret;
    const basic = /^Basic (.+)$/i.exec(request.headers.authorization ?? '');
    if (basic?.[1]) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      clientId = i > 0 ? formDecode(decoded.slice(0, i)) : undefined;
      clientSecret = i > 0 ? formDecode(decoded.slice(i + 1)) : undefined;
    }
    try {
      return await exchangeTestCode(ctxOf(request), {
        grantType: body.grant_type,
        code: body.code,
        redirectUri: body.redirect_uri,
        codeVerifier: body.code_verifier,
        clientId,
        clientSecret,
      });
    } catch (err) {
      if (!(err instanceof OAuthEndpointError)) throw err;
      if (err.status === 401) void reply.header('WWW-Authenticate', 'Basic realm="carnet-test-oidc"');
      return reply.status(err.status).send({ error: err.error, error_description: err.message });
    }
  });

  app.get(`${base}/userinfo`, { schema: { hide: true } }, async (request, reply) => {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(request.headers.authorization ?? '');
    try {
      return await testUserInfo(ctxOf(request), match?.[1]);
    } catch (err) {
      if (!(err instanceof OAuthEndpointError)) throw err;
      return reply
        .status(401)
        .header('WWW-Authenticate', `Bearer error="${err.error}"`)
        .send({ error: err.error, error_description: err.message });
    }
  });
};

/** Basic credentials are form-urlencoded before base64 (RFC 6749 §2.3.1). */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}
