import { createHash, randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { testProviderClient } from '../../src/modules/identity/index.ts';
import { createTestRuntime, makeRpps, rawInject, type TestRuntime } from '../harness.ts';
import {
  addRule,
  audited,
  clockOf,
  HOUR,
  insToken,
  professional,
  publish,
  START,
  type Pro,
} from '../trust/support.ts';
import { signedInPatient, type ApiPatient } from './support.ts';

/**
 * Professional sign-in through OpenID Connect, offline against the local test provider: every
 * redirect is followed by hand with app.inject, as a browser would.
 */

let rt: TestRuntime;
let patient: ApiPatient;
let gp: Pro;
let docId: string;

beforeAll(async () => {
  // Enabled explicitly: on PostgreSQL (DATABASE_URL set) the test provider is off by default.
  rt = await createTestRuntime({ clock: START, env: { PRO_OIDC_TEST_PROVIDER: 'true' } });
  patient = await signedInPatient(rt);
  gp = await professional(rt, '10');
  await addRule(rt, patient.cookie, { kind: 'role', rpps: gp.rpps, role: 'gp' });
  docId = await publish(rt, gp, patient.patient);
});
afterAll(async () => {
  await rt?.close();
});

const cookieOf = (res: LightMyRequestResponse, name: string) => res.cookies.find((c) => c.name === name);
const local = (url: string) => {
  const u = new URL(url, 'http://127.0.0.1:3000');
  return u.pathname + u.search;
};

/** GET /pro/login: where the browser goes, and the cookie binding the attempt to it. */
async function startLogin(): Promise<{ authorize: URL; login: string }> {
  const res = await rt.app.inject({ method: 'GET', url: '/pro/login' });
  expect(res.statusCode, res.body).toBe(303);
  const c = cookieOf(res, 'carnet_pro_login');
  expect(c?.httpOnly).toBe(true);
  expect(c?.sameSite).toBe('Lax');
  return { authorize: new URL(String(res.headers.location)), login: `carnet_pro_login=${c?.value}` };
}

/** At the test provider: show the page, then submit the form for one RPPS. Returns the callback URL. */
async function choose(authorize: URL, fields: Record<string, string>): Promise<URL> {
  const page = await rt.app.inject({ method: 'GET', url: local(authorize.href) });
  expect(page.statusCode, page.body).toBe(200);
  const form = new URLSearchParams(authorize.searchParams);
  form.delete('acr_values');
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  const res = await rt.app.inject({
    method: 'POST',
    url: '/dev/oidc/authorize',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form.toString(),
  });
  expect(res.statusCode, res.body).toBe(303);
  return new URL(String(res.headers.location));
}

async function callback(url: URL, login: string | undefined) {
  return rt.app.inject({
    method: 'GET',
    url: local(url.href),
    headers: login ? { cookie: login } : {},
  });
}

/** The whole journey for `rpps`; returns the session cookie header. */
async function signIn(rpps: string): Promise<string> {
  const { authorize, login } = await startLogin();
  const res = await callback(await choose(authorize, { rpps }), login);
  expect(res.statusCode, res.body).toBe(303);
  expect(res.headers.location).toBe('/pro/');
  const c = cookieOf(res, 'carnet_pro_session');
  if (!c) throw new Error('no professional session cookie');
  return `carnet_pro_session=${c.value}`;
}

const searchUrl = () =>
  `/fhir/R4/DocumentReference?patient.identifier=${encodeURIComponent(insToken(patient.patient))}`;

describe('the local test provider', () => {
  it('publishes discovery and keys, and says on its page that it is a test provider', async () => {
    const meta = await rt.app.inject({ method: 'GET', url: '/dev/oidc/.well-known/openid-configuration' });
    expect(meta.json()).toMatchObject({
      issuer: 'http://127.0.0.1:3000/dev/oidc',
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
    const jwks = await rt.app.inject({ method: 'GET', url: '/dev/oidc/jwks' });
    expect(jwks.json<{ keys: Array<{ kty: string; d?: string }> }>().keys).toEqual([
      expect.objectContaining({ kty: 'EC', crv: 'P-256', alg: 'ES256' }),
    ]);
    expect(jwks.body).not.toContain('"d"');
    const { authorize } = await startLogin();
    const page = await rt.app.inject({ method: 'GET', url: local(authorize.href) });
    expect(page.body).toContain('Fournisseur d’identité de TEST');
    expect(page.body).toContain('aucun mot de passe');
    expect(page.body).toContain(gp.rpps);
    expect(page.body).not.toMatch(/type="password"/);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('refuses an unknown client, another redirect_uri and PKCE other than S256 (400, no redirect)', async () => {
    const { authorize } = await startLogin();
    for (const [k, v] of [
      ['client_id', 'intruder'],
      ['redirect_uri', 'https://evil.example/cb'],
      ['code_challenge_method', 'plain'],
    ] as const) {
      const u = new URL(authorize);
      u.searchParams.set(k, v);
      const res = await rt.app.inject({ method: 'GET', url: local(u.href) });
      expect(res.statusCode, k).toBe(400);
      expect(res.headers.location).toBeUndefined();
    }
  });

  it('token endpoint: client authenticated, PKCE checked, a code works once', async () => {
    const client = testProviderClient(rt.ctx);
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const params = {
      client_id: client.clientId,
      redirect_uri: client.redirectUri,
      response_type: 'code',
      scope: 'openid scope_all',
      state: 's1',
      nonce: 'n1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
    const auth = new URL('http://127.0.0.1:3000/dev/oidc/authorize');
    for (const [k, v] of Object.entries(params)) auth.searchParams.set(k, v);
    const code = (await choose(auth, { rpps: gp.rpps })).searchParams.get('code') ?? '';
    const token = (body: Record<string, string>, secret = client.clientSecret) =>
      rt.app.inject({
        method: 'POST',
        url: '/dev/oidc/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client.clientId}:${secret}`).toString('base64')}`,
        },
        payload: new URLSearchParams({
          grant_type: 'authorization_code',
          redirect_uri: client.redirectUri,
          ...body,
        }).toString(),
      });
    expect((await token({ code, code_verifier: verifier }, 'wrong')).statusCode).toBe(401);
    const wrongVerifier = await token({ code, code_verifier: randomBytes(32).toString('base64url') });
    expect(wrongVerifier.json()).toMatchObject({ error: 'invalid_grant' });
    // The wrong verifier consumed the code: a code is single use whatever happens.
    expect((await token({ code, code_verifier: verifier })).json()).toMatchObject({ error: 'invalid_grant' });

    const code2 = (await choose(auth, { rpps: gp.rpps })).searchParams.get('code') ?? '';
    const ok = await token({ code: code2, code_verifier: verifier });
    expect(ok.statusCode, ok.body).toBe(200);
    const { access_token: at } = ok.json<{ access_token: string }>();
    expect((await token({ code: code2, code_verifier: verifier })).json()).toMatchObject({
      error: 'invalid_grant',
    });
    const info = await rt.app.inject({
      method: 'GET',
      url: '/dev/oidc/userinfo',
      headers: { authorization: `Bearer ${at}` },
    });
    expect(info.json()).toMatchObject({
      SubjectNameID: `8${gp.rpps}`,
      given_name: 'Jean',
      SubjectRole: ['10^1.2.250.1.71.1.2.7'],
    });
    expect((await rt.app.inject({ method: 'GET', url: '/dev/oidc/userinfo' })).statusCode).toBe(401);
  });
});

describe('professional sign-in through OpenID Connect', () => {
  it('signs an active professional in, audited, and the web session reads the FHIR API', async () => {
    const { value: cookie, rows } = await audited(rt, () => signIn(gp.rpps));
    const signedIn = rows.filter((r) => r.action === 'authenticate');
    expect(signedIn.map((r) => [r.outcome, r.actor_kind, r.actor_id, r.client_id])).toEqual([
      ['success', 'professional', gp.rpps, 'web'],
    ]);

    const me = await rt.app.inject({ method: 'GET', url: '/pro/me', headers: { cookie } });
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json()).toMatchObject({
      rpps: gp.rpps,
      idnps: `8${gp.rpps}`,
      professionCode: '10',
      organization: { id: gp.organizationId },
    });
    const home = await rt.app.inject({ method: 'GET', url: '/pro/', headers: { cookie } });
    expect(home.body).toContain(gp.rpps);

    const { value: search, rows: reads } = await audited(rt, () =>
      rt.app.inject({ method: 'GET', url: searchUrl(), headers: { cookie } }),
    );
    expect(search.statusCode, search.body).toBe(200);
    expect(search.body).toContain(docId);
    expect(
      reads.some((r) => r.actor_id === gp.rpps && r.client_id === 'web' && r.outcome === 'success'),
    ).toBe(true);
    const read = await rt.app.inject({
      method: 'GET',
      url: `/fhir/R4/DocumentReference/${docId}`,
      headers: { cookie, 'sec-fetch-site': 'same-origin' },
    });
    expect(read.statusCode).toBe(200);
  });

  it('a new sign-in in the same browser replaces the previous session', async () => {
    const first = await signIn(gp.rpps);
    const { authorize, login } = await startLogin();
    const cb = await choose(authorize, { rpps: gp.rpps });
    const second = await rt.app.inject({
      method: 'GET',
      url: local(cb.href),
      headers: { cookie: `${login}; ${first}` },
    });
    expect(second.statusCode, second.body).toBe(303);
    expect(
      (await rt.app.inject({ method: 'GET', url: '/pro/me', headers: { cookie: first } })).statusCode,
    ).toBe(401);
  });

  it('the web session never writes over FHIR, nor reads from another site', async () => {
    const cookie = await signIn(gp.rpps);
    const write = await rt.app.inject({
      method: 'POST',
      url: '/fhir/R4/DocumentReference',
      headers: { cookie, 'content-type': 'application/fhir+json' },
      payload: '{}',
    });
    expect(write.statusCode).toBe(401);
    const crossSite = await rt.app.inject({
      method: 'GET',
      url: searchUrl(),
      headers: { cookie, 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.statusCode).toBe(401);
    expect(crossSite.body).not.toContain(docId);
  });

  it('signs out from its own pages only; the session is then dead', async () => {
    const cookie = await signIn(gp.rpps);
    const foreign = await rt.app.inject({
      method: 'POST',
      url: '/pro/logout',
      headers: { cookie, origin: 'https://evil.example' },
    });
    expect(foreign.statusCode).toBe(403);
    const fetchMeta = await rt.app.inject({
      method: 'POST',
      url: '/pro/logout',
      headers: { cookie, 'sec-fetch-site': 'cross-site' },
    });
    expect(fetchMeta.statusCode).toBe(403);
    expect((await rt.app.inject({ method: 'GET', url: '/pro/me', headers: { cookie } })).statusCode).toBe(
      200,
    );
    const out = await rt.app.inject({
      method: 'POST',
      url: '/pro/logout',
      headers: { cookie, origin: 'http://127.0.0.1:3000', 'sec-fetch-site': 'same-origin' },
    });
    expect(out.statusCode).toBe(303);
    expect((await rt.app.inject({ method: 'GET', url: '/pro/me', headers: { cookie } })).statusCode).toBe(
      401,
    );
    expect((await rt.app.inject({ method: 'GET', url: searchUrl(), headers: { cookie } })).statusCode).toBe(
      401,
    );
  });

  async function refused(res: LightMyRequestResponse, rows: Array<{ outcome: string; action: string }>) {
    expect(res.statusCode, res.body).toBe(403);
    expect(res.headers['content-type']).toContain('text/html');
    expect(cookieOf(res, 'carnet_pro_session')).toBeUndefined();
    expect(rows.filter((r) => r.action === 'authenticate' && r.outcome === 'denied')).toHaveLength(1);
  }

  it('refuses a callback whose state was changed', async () => {
    const { authorize, login } = await startLogin();
    const cb = await choose(authorize, { rpps: gp.rpps });
    cb.searchParams.set('state', 'forged');
    const { value, rows } = await audited(rt, () => callback(cb, login));
    await refused(value, rows);
  });

  it('refuses a callback from a browser that did not start the sign-in (no or another binding cookie)', async () => {
    const { authorize } = await startLogin();
    const cb = await choose(authorize, { rpps: gp.rpps });
    const none = await audited(rt, () => callback(cb, undefined));
    await refused(none.value, none.rows);
    const other = await startLogin();
    const mixed = await audited(rt, () => callback(cb, other.login));
    await refused(mixed.value, mixed.rows);
  });

  it('refuses a replayed callback and a replayed code', async () => {
    const { authorize, login } = await startLogin();
    const cb = await choose(authorize, { rpps: gp.rpps });
    expect((await callback(cb, login)).statusCode).toBe(303);
    const replay = await audited(rt, () => callback(cb, login));
    await refused(replay.value, replay.rows);
    // The same code under a fresh attempt of the same browser: the provider refuses it (single use).
    const again = await startLogin();
    const injected = new URL(cb);
    injected.searchParams.set('state', again.authorize.searchParams.get('state') ?? '');
    const res = await audited(rt, () => callback(injected, again.login));
    await refused(res.value, res.rows);
    expect(res.rows.find((r) => r.outcome === 'denied')?.reason).toMatch(/invalid_grant/);
  });

  it('refuses an ID token whose nonce is not the one sent', async () => {
    const { authorize, login } = await startLogin();
    authorize.searchParams.set('nonce', 'a-nonce-the-relying-party-never-sent');
    const { value, rows } = await audited(rt, async () =>
      callback(await choose(authorize, { rpps: gp.rpps }), login),
    );
    await refused(value, rows);
    expect(rows.find((r) => r.outcome === 'denied')?.reason).toMatch(/nonce|claim/i);
  });

  it('refuses an answer from another issuer (iss parameter)', async () => {
    const { authorize, login } = await startLogin();
    const cb = await choose(authorize, { rpps: gp.rpps });
    cb.searchParams.set('iss', 'https://auth.esante.gouv.fr');
    const { value, rows } = await audited(rt, () => callback(cb, login));
    await refused(value, rows);
  });

  it('refuses a professional unknown to Carnet, audited with the identifier', async () => {
    const unknown = makeRpps();
    const { authorize, login } = await startLogin();
    const { value, rows } = await audited(rt, async () =>
      callback(await choose(authorize, { other_rpps: unknown }), login),
    );
    await refused(value, rows);
    const denied = rows.find((r) => r.outcome === 'denied');
    expect(denied?.details).toMatchObject({ idnps: `8${unknown}` });
    expect(value.body).toContain('Connexion refusée');
  });

  it('refuses a deactivated professional, and ends the sessions they had', async () => {
    const nurse = await professional(rt, '60');
    const cookie = await signIn(nurse.rpps);
    await rt.ctx.rootDb
      .updateTable('professionals')
      .set({ active: false })
      .where('id', '=', nurse.id)
      .execute();
    expect((await rt.app.inject({ method: 'GET', url: '/pro/me', headers: { cookie } })).statusCode).toBe(
      401,
    );
    const { authorize, login } = await startLogin();
    const { value, rows } = await audited(rt, async () =>
      callback(await choose(authorize, { rpps: nurse.rpps }), login),
    );
    await refused(value, rows);
    expect(rows.find((r) => r.outcome === 'denied')).toMatchObject({
      actor_kind: 'professional',
      actor_id: nurse.rpps,
    });
  });

  it('refuses a sign-in finished after the attempt expired; a session expires', async () => {
    const { authorize, login } = await startLogin();
    const cb = await choose(authorize, { rpps: gp.rpps });
    const cookie = await signIn(gp.rpps);
    clockOf(rt).advance(11 * 60_000);
    const late = await audited(rt, () => callback(cb, login));
    await refused(late.value, late.rows);
    expect((await rt.app.inject({ method: 'GET', url: '/pro/me', headers: { cookie } })).statusCode).toBe(
      200,
    );
    clockOf(rt).advance(rt.config.sessionTtlHours * HOUR);
    const me = await audited(rt, () => rt.app.inject({ method: 'GET', url: '/pro/me', headers: { cookie } }));
    expect(me.value.statusCode).toBe(401);
    expect(me.rows.map((r) => r.outcome)).toEqual(['denied']);
    expect((await rt.app.inject({ method: 'GET', url: searchUrl(), headers: { cookie } })).statusCode).toBe(
      401,
    );
  });

  it('has no password sign-in for professionals', async () => {
    const res = await rawInject(rt.app)({
      method: 'POST',
      url: '/api/session',
      payload: { login: gp.rpps, password: 'anything at all' },
    });
    expect(res.statusCode).toBe(401);
    expect(cookieOf(res, 'carnet_pro_session')).toBeUndefined();
    expect(cookieOf(res, 'carnet_session')).toBeUndefined();
    for (const [method, url] of [
      ['POST', '/pro/login'],
      ['POST', '/pro/session'],
      ['POST', '/pro/me'],
    ] as const) {
      const r = await rt.app.inject({ method, url, payload: { rpps: gp.rpps, password: 'x' } });
      expect(r.statusCode, `${method} ${url}`).toBe(404);
    }
  });
});

describe('configuration', () => {
  const base = { CARNET_DATA_DIR: '/tmp/carnet-x', CARNET_MASTER_KEY: randomBytes(32).toString('base64') };
  it('the test provider is on in embedded (demo) mode, off in the production footprint unless asked', () => {
    expect(loadConfig(base).proOidc).toMatchObject({
      testProvider: true,
      issuer: 'http://127.0.0.1:3000/dev/oidc',
    });
    const pg = { ...base, DATABASE_URL: 'postgres://db/carnet' };
    expect(loadConfig(pg).proOidc).toBeUndefined();
    expect(loadConfig({ ...pg, PRO_OIDC_TEST_PROVIDER: 'true' }).proOidc?.testProvider).toBe(true);
    const psc = loadConfig({
      ...pg,
      PRO_OIDC_ISSUER: 'https://auth.esante.gouv.fr/auth/realms/esante-wallet',
      PRO_OIDC_CLIENT_ID: 'carnet',
      PRO_OIDC_CLIENT_SECRET: 's3cret',
    }).proOidc;
    expect(psc).toMatchObject({ testProvider: false, clientId: 'carnet' });
    expect(() => loadConfig({ ...pg, PRO_OIDC_ISSUER: 'https://auth.esante.gouv.fr' })).toThrow(
      /PRO_OIDC_CLIENT_ID/,
    );
  });

  it('without a provider, professional sign-in and the test pages do not exist', async () => {
    const off = await createTestRuntime({ env: { PRO_OIDC_TEST_PROVIDER: 'false', CARNET_DEMO: 'false' } });
    try {
      expect((await off.app.inject({ method: 'GET', url: '/pro/login' })).statusCode).toBe(404);
      expect(
        (await off.app.inject({ method: 'GET', url: '/dev/oidc/.well-known/openid-configuration' }))
          .statusCode,
      ).toBe(404);
    } finally {
      await off.close();
    }
  });
});
