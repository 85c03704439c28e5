import Fastify, { type FastifyInstance } from 'fastify';
import { SignJWT, UnsecuredJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/http/errors.ts';
import { professionalActor } from '../../src/http/request-context.ts';
import { createClient } from '../../src/modules/identity/index.ts';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../src/modules/identity/tokens.ts';
import type { fixedClock } from '../../src/platform/clock.ts';
import { deriveKey } from '../../src/platform/crypto.ts';
import { createTestRuntime, seedProfessional, tokenFor, type TestRuntime } from '../harness.ts';
import { expectApiError } from './support.ts';

/**
 * POST /oauth/token (client credentials, RFC 6749 §4.4) and the bearer check every professional
 * route relies on (http/request-context.ts professionalActor). The FHIR router is written
 * elsewhere, so the bearer check is exercised through a probe route mounted on the same function
 * and the same error handler.
 */

const START = new Date('2026-03-02T08:00:00Z');
let rt: TestRuntime;
let probe: FastifyInstance;
let clock: ReturnType<typeof fixedClock>;

beforeAll(async () => {
  rt = await createTestRuntime({ clock: START });
  clock = rt.clock as ReturnType<typeof fixedClock>;
  probe = Fastify();
  probe.decorate('carnet', rt.ctx);
  probe.setErrorHandler(errorHandler);
  probe.get('/fhir/R4/whoami', async (request) => professionalActor(request));
  await probe.ready();
});
afterAll(async () => {
  await probe?.close();
  await rt?.close();
});

function tokenRequest(form: Record<string, string>, headers: Record<string, string> = {}) {
  return rt.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams(form).toString(),
  });
}

const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** The 401 of a FHIR route: an OperationOutcome (issue code `login`) and a Bearer challenge. */
function expectBearerRefused(res: Awaited<ReturnType<FastifyInstance['inject']>>): void {
  expect(res.statusCode, res.body).toBe(401);
  expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="carnet", error="invalid_token"/);
  const outcome = res.json<{ resourceType: string; issue: Array<{ severity: string; code: string }> }>();
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(outcome.issue[0]).toMatchObject({ severity: 'error', code: 'login' });
}

const whoami = (token: string) =>
  probe.inject({ method: 'GET', url: '/fhir/R4/whoami', headers: { authorization: `Bearer ${token}` } });

const signingKey = (): Buffer => deriveKey(rt.ctx.masterKey, 'access-token-signing');

/** A token like ours, with the claims of `pro`, overridable piece by piece. */
async function craftToken(
  pro: { clientId: string; rpps: string },
  cid: string,
  options: { key?: Uint8Array; audience?: string; issuer?: string; expiresIn?: number } = {},
): Promise<string> {
  const iat = Math.floor(clock.now().getTime() / 1000);
  return new SignJWT({ cid, rpps: pro.rpps, scope: 'system/DocumentReference.crud' })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setIssuer(options.issuer ?? TOKEN_ISSUER)
    .setAudience(options.audience ?? TOKEN_AUDIENCE)
    .setSubject(pro.clientId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.expiresIn ?? 300))
    .sign(options.key ?? signingKey());
}

describe('POST /oauth/token', () => {
  it('issues an HS256 JWT with an expiry for credentials in the form body', async () => {
    const pro = await seedProfessional(rt.ctx);
    const res = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: pro.clientId,
      client_secret: pro.clientSecret,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<{ access_token: string; token_type: string; expires_in: number; scope: string }>();
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(rt.config.tokenTtlSeconds);
    expect(decodeProtectedHeader(body.access_token).alg).toBe('HS256');
    const claims = decodeJwt(body.access_token);
    expect(claims.iat).toBe(START.getTime() / 1000);
    expect(claims.exp).toBe(START.getTime() / 1000 + rt.config.tokenTtlSeconds);
    expect(claims.aud).toBe(TOKEN_AUDIENCE);
    expect(claims.sub).toBe(pro.clientId);
    expect(claims.rpps).toBe(pro.rpps);
    const who = await whoami(body.access_token);
    expect(who.statusCode, who.body).toBe(200);
    expect(who.json()).toMatchObject({
      kind: 'professional',
      professionalId: pro.id,
      rpps: pro.rpps,
      clientId: pro.clientId,
    });
  });

  it('accepts client credentials in an HTTP Basic header', async () => {
    const pro = await seedProfessional(rt.ctx);
    const res = await tokenRequest(
      { grant_type: 'client_credentials' },
      { authorization: basic(pro.clientId, pro.clientSecret) },
    );
    expect(res.statusCode, res.body).toBe(200);
    expect((await whoami(res.json<{ access_token: string }>().access_token)).statusCode).toBe(200);
  });

  it('form-decodes Basic credentials (RFC 6749 §2.3.1): %XX and + for a space', async () => {
    const pro = await seedProfessional(rt.ctx);
    const secret = 's3cret with:colon%and+plus';
    const client = await createClient(rt.ctx, {
      organizationId: pro.organizationId,
      professionalId: pro.id,
      name: 'odd secret',
      secret,
    });
    const formEncoded = new URLSearchParams({ s: secret }).toString().slice(2); // spaces as '+'
    for (const encoded of [encodeURIComponent(secret), formEncoded]) {
      const res = await tokenRequest(
        { grant_type: 'client_credentials' },
        { authorization: basic(client.clientId, encoded) },
      );
      expect(res.statusCode, `${encoded}: ${res.body}`).toBe(200);
    }
  });

  it('answers a wrong secret and an unknown client with the same 401 invalid_client', async () => {
    const pro = await seedProfessional(rt.ctx);
    const answers = await Promise.all([
      tokenRequest({ grant_type: 'client_credentials', client_id: pro.clientId, client_secret: 'wrong' }),
      tokenRequest({ grant_type: 'client_credentials', client_id: 'carnet-nobody', client_secret: 'wrong' }),
      tokenRequest({ grant_type: 'client_credentials' }, { authorization: basic(pro.clientId, 'wrong') }),
      tokenRequest(
        { grant_type: 'client_credentials' },
        { authorization: basic('carnet-nobody', pro.clientSecret) },
      ),
    ]);
    for (const res of answers) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({
        error: 'invalid_client',
        error_description: 'Client authentication failed',
      });
      expect(res.headers['www-authenticate']).toMatch(/^Basic /);
    }
  });

  it('answers malformed Basic credentials with 401 invalid_client, not a server error', async () => {
    const res = await tokenRequest(
      { grant_type: 'client_credentials' },
      { authorization: basic('carnet-x%zz', 'y%') },
    );
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json<{ error: string }>().error).toBe('invalid_client');
  });

  it('answers missing credentials with 401 invalid_client', async () => {
    const res = await tokenRequest({ grant_type: 'client_credentials' });
    expect(res.statusCode).toBe(401);
    expect(res.json<{ error: string }>().error).toBe('invalid_client');
  });

  it.each(['password', 'authorization_code', 'refresh_token', ''])(
    'refuses grant_type=%j with 400 unsupported_grant_type',
    async (grant) => {
      const pro = await seedProfessional(rt.ctx);
      const res = await tokenRequest({
        grant_type: grant,
        client_id: pro.clientId,
        client_secret: pro.clientSecret,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json<{ error: string }>().error).toBe('unsupported_grant_type');
    },
  );
});

describe('bearer tokens', () => {
  it('refuses a token signed with another key', async () => {
    const pro = await seedProfessional(rt.ctx);
    const cid = decodeJwt(await tokenFor(rt.app, pro)).cid as string;
    expect((await whoami(await craftToken(pro, cid))).statusCode).toBe(200); // the crafted shape is right…
    expectBearerRefused(await whoami(await craftToken(pro, cid, { key: new Uint8Array(32).fill(9) }))); // …but not the key
  });

  it('refuses an unsigned (alg: none) token', async () => {
    const pro = await seedProfessional(rt.ctx);
    const real = decodeJwt(await tokenFor(rt.app, pro));
    const unsigned = new UnsecuredJWT({ cid: real.cid, rpps: pro.rpps, scope: real.scope })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(pro.clientId)
      .setIssuedAt(Math.floor(clock.now().getTime() / 1000))
      .setExpirationTime('5m')
      .encode();
    expect(decodeProtectedHeader(unsigned).alg).toBe('none');
    expectBearerRefused(await whoami(unsigned));
  });

  it('refuses a token once expired (and not a second before)', async () => {
    const pro = await seedProfessional(rt.ctx);
    const token = await tokenFor(rt.app, pro);
    try {
      clock.advance((rt.config.tokenTtlSeconds - 1) * 1000);
      expect((await whoami(token)).statusCode).toBe(200);
      clock.advance(2000);
      const res = await whoami(token);
      expectBearerRefused(res);
      expect(res.json<{ issue: Array<{ diagnostics: string }> }>().issue[0]?.diagnostics).toMatch(/expired/);
    } finally {
      clock.set(START);
    }
  });

  it.each([
    ['a wrong audience', { audience: 'another-api' }],
    ['a wrong issuer', { issuer: 'someone-else' }],
  ])('refuses a token with %s', async (_, options) => {
    const pro = await seedProfessional(rt.ctx);
    const cid = decodeJwt(await tokenFor(rt.app, pro)).cid as string;
    expectBearerRefused(await whoami(await craftToken(pro, cid, options)));
  });

  it('refuses a well-signed token naming another client than its subject', async () => {
    const a = await seedProfessional(rt.ctx);
    const b = await seedProfessional(rt.ctx);
    const cidOfB = decodeJwt(await tokenFor(rt.app, b)).cid as string;
    expectBearerRefused(await whoami(await craftToken(a, cidOfB)));
  });

  it.each(['', 'Bearer', 'Bearer not a token', 'Basic abc', 'Bearer a.b.c'])(
    'refuses Authorization: %j',
    async (value) => {
      expectBearerRefused(
        await probe.inject({ method: 'GET', url: '/fhir/R4/whoami', headers: { authorization: value } }),
      );
    },
  );

  it('stops a live token as soon as its client is deactivated', async () => {
    const pro = await seedProfessional(rt.ctx);
    const token = await tokenFor(rt.app, pro);
    expect((await whoami(token)).statusCode).toBe(200);
    await rt.ctx.rootDb
      .updateTable('oauth_clients')
      .set({ active: false })
      .where('client_id', '=', pro.clientId)
      .execute();
    expectBearerRefused(await whoami(token));
    const again = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: pro.clientId,
      client_secret: pro.clientSecret,
    });
    expect(again.statusCode).toBe(401);
    expect(again.json<{ error: string }>().error).toBe('invalid_client');
  });

  it('stops a live token as soon as its professional is deactivated', async () => {
    const pro = await seedProfessional(rt.ctx);
    const token = await tokenFor(rt.app, pro);
    await rt.ctx.rootDb
      .updateTable('professionals')
      .set({ active: false })
      .where('id', '=', pro.id)
      .execute();
    expectBearerRefused(await whoami(token));
  });

  it('gets 401 on the patient API: /api takes only the session cookie', async () => {
    const pro = await seedProfessional(rt.ctx);
    const token = await tokenFor(rt.app, pro);
    for (const url of ['/api/me', '/api/documents', '/api/audit-events']) {
      const res = await rt.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      expectApiError(res, 401, 'unauthenticated');
    }
  });
});
