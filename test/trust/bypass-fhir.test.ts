import { randomBytes } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../src/modules/identity/tokens.ts';
import { deriveKey } from '../../src/platform/crypto.ts';
import { sessionCookieFor, tokenFor } from '../harness.ts';
import { PASSWORD } from '../api/support.ts';
import { clockOf, insToken, professional, publishResource, type Pro } from './support.ts';
import { ATTACKERS, attempt, createWorld, credentialsOf, expectNoLeak, type World } from './bypass-world.ts';

/**
 * The FHIR side of the bypass suite: search modifiers and paging tricks never surface a hidden
 * item, and every forged, expired or revoked credential is a 401 on every professional route, with
 * the refusal on the audit trail — even when the token names a professional who could see it all.
 */

let w: World;
beforeAll(async () => {
  w = await createWorld();
});
afterAll(async () => {
  await w?.rt.close();
});

const pros = (): Array<[string, Pro]> =>
  ATTACKERS.filter((a) => a !== 'anonymous' && a !== 'patientB').map((a) => [a, w.pros[a as 'stranger']]);
const searchOfA = (extra: string) =>
  `/fhir/R4/DocumentReference?patient.identifier=${encodeURIComponent(insToken(w.a.patient))}${extra}`;

describe('search parameters and paging', () => {
  const TRICKS = [
    '&_include=DocumentReference:subject',
    '&_include=*',
    '&_revinclude=Provenance:target',
    '&_revinclude=*',
    '&_elements=id,description,content',
    '&_summary=count',
    '&_summary=true',
    '&_total=accurate',
    '&_sort=-date',
    '&_id=ID',
    '&_has:AuditEvent:entity:agent=x',
    '&_list=x',
    '&_count=0',
    '&_count=-1',
    '&_count=1e3',
    '&_count=100000',
    '&_format=xml',
    '&status=entered-in-error',
    '&status=current,superseded&_count=1',
    '&patient.identifier=x',
    '&author.identifier=AUTHOR',
  ];

  it.each(TRICKS)('%s: 400 or an answer with nothing of A, for every professional', async (trick) => {
    for (const [name, pro] of pros()) {
      const url = searchOfA(trick.replace('ID', w.ids.docs.consult).replace('AUTHOR', w.gpOfA.rpps));
      const { res, rows } = await attempt(w, {
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${pro.token}` },
      });
      expect([200, 400], `${trick} by ${name}: ${res.statusCode} ${res.body.slice(0, 200)}`).toContain(
        res.statusCode,
      );
      expectNoLeak(w, res, url, `${trick} by ${name}`);
      if (res.statusCode === 200) {
        const bundle = res.json<{ entry?: unknown[] }>();
        expect((bundle.entry ?? []).length).toBeLessThanOrEqual(100);
        const search = rows.find((r) => r.action === 'search');
        for (const id of Object.values(w.ids.docs)) expect(search?.details.returned).not.toContain(id);
      }
    }
  });

  it("a paging cursor taken from A's GP's search yields nothing to the others", async () => {
    const gp = await attempt(w, {
      method: 'GET',
      url: searchOfA('&_count=1'),
      headers: credentialsOf(w, 'gpOfA'),
    });
    const next = gp.res
      .json<{ link: Array<{ relation: string; url: string }> }>()
      .link.find((l) => l.relation === 'next');
    expect(next, 'the GP has more than one page').toBeDefined();
    const url = new URL(next!.url);
    for (const [name, pro] of pros()) {
      const { res } = await attempt(w, {
        method: 'GET',
        url: `${url.pathname}${url.search}`,
        headers: { authorization: `Bearer ${pro.token}` },
      });
      expect(res.statusCode).toBe(200);
      expectNoLeak(w, res, url.search, `GP's cursor by ${name}`);
    }
    // And the same cursor is a real position: the GP's next page holds A's documents.
    const again = await attempt(w, {
      method: 'GET',
      url: `${url.pathname}${url.search}`,
      headers: credentialsOf(w, 'gpOfA'),
    });
    expect(Object.values(w.ids.docs).some((id) => again.res.body.includes(id))).toBe(true);
  });

  it('a forged cursor at one of A’s documents yields nothing either', async () => {
    for (const id of Object.values(w.ids.docs)) {
      const cursor = Buffer.from(`2999-01-01T00:00:00.000Z|${id}`).toString('base64url');
      for (const [name, pro] of pros()) {
        const url = searchOfA(`&_cursor=${cursor}`);
        const { res } = await attempt(w, {
          method: 'GET',
          url,
          headers: { authorization: `Bearer ${pro.token}` },
        });
        expect(res.statusCode).toBe(200);
        expectNoLeak(w, res, url, `forged cursor by ${name}`);
      }
    }
  });

  it.each([
    ['GET', 'DocumentReference/ID/_history'],
    ['GET', 'DocumentReference/ID/_history/1'],
    ['GET', 'DocumentReference/_history'],
    ['GET', '_history'],
    ['GET', 'DocumentReference/ID/$meta'],
    ['HEAD', 'Binary/ID'],
    ['GET', 'Patient?identifier=INS'],
    ['GET', 'AuditEvent?patient.identifier=INS'],
    ['GET', 'List?patient.identifier=INS'],
  ] as const)('%s %s answers 404 with nothing of A', async (method, path) => {
    const url = `/fhir/R4/${path.replace('ID', w.ids.docs.consult).replace('INS', encodeURIComponent(insToken(w.a.patient)))}`;
    for (const [name, pro] of pros()) {
      const { res } = await attempt(w, { method, url, headers: { authorization: `Bearer ${pro.token}` } });
      expect(res.statusCode, `${name}: ${res.body}`).toBe(404);
      expectNoLeak(w, res, url, `${method} ${path} by ${name}`);
    }
  });
});

/** One request per professional route, each aimed at A's record or documents. */
const FHIR_REQUESTS = (): Array<{ method: string; url: string; payload?: string }> => [
  { method: 'GET', url: searchOfA('') },
  {
    method: 'POST',
    url: '/fhir/R4/DocumentReference/_search',
    payload: new URLSearchParams({ 'patient.identifier': insToken(w.a.patient) }).toString(),
  },
  { method: 'GET', url: `/fhir/R4/DocumentReference/${w.ids.docs.masked}` },
  { method: 'GET', url: `/fhir/R4/Binary/${w.ids.docs.masked}` },
  { method: 'DELETE', url: `/fhir/R4/DocumentReference/${w.ids.docs.consult}` },
  {
    method: 'POST',
    url: '/fhir/R4/DocumentReference',
    payload: JSON.stringify(publishResource(w.a.patient)),
  },
  { method: 'POST', url: '/fhir/R4', payload: '{"resourceType":"Bundle","type":"transaction","entry":[]}' },
  {
    method: 'POST',
    url: '/fhir/R4/Patient/$emergency-access',
    payload: JSON.stringify({ resourceType: 'Parameters', parameter: [] }),
  },
];

async function expectRefused(token: string | undefined, why: string, header?: string): Promise<void> {
  for (const r of FHIR_REQUESTS()) {
    const contentType = r.url.endsWith('_search')
      ? 'application/x-www-form-urlencoded'
      : 'application/fhir+json';
    const { res, rows } = await attempt(w, {
      method: r.method,
      url: r.url,
      headers: {
        authorization: header ?? `Bearer ${token}`,
        ...(r.payload ? { 'content-type': contentType } : {}),
      },
      ...(r.payload ? { payload: r.payload } : {}),
    });
    const label = `${why}: ${r.method} ${r.url}`;
    expect(res.statusCode, `${label}: ${res.body.slice(0, 200)}`).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(res.json<{ issue: Array<{ code: string }> }>().issue[0]?.code).toBe('login');
    expectNoLeak(w, res, r.url, label);
    expect(
      rows.map((x) => [x.outcome, x.actor_kind, x.action, x.entity_type]),
      label,
    ).toEqual([['denied', 'anonymous', 'authenticate', 'AccessToken']]);
  }
}

describe("tokens: refused even when they name A's GP (who may see everything)", () => {
  const key = () => deriveKey(w.rt.ctx.masterKey, 'access-token-signing');
  const cidOf = async (pro: Pro) =>
    (
      await w.rt.ctx.rootDb
        .selectFrom('oauth_clients')
        .select('id')
        .where('client_id', '=', pro.clientId)
        .executeTakeFirstOrThrow()
    ).id;
  async function craft(
    options: { key?: Uint8Array; audience?: string; issuer?: string; rpps?: string; alg?: string } = {},
  ): Promise<string> {
    const iat = Math.floor(clockOf(w.rt).now().getTime() / 1000);
    return new SignJWT({
      cid: await cidOf(w.gpOfA),
      rpps: options.rpps ?? w.gpOfA.rpps,
      scope: 'system/DocumentReference.crud',
    })
      .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'at+jwt' })
      .setIssuer(options.issuer ?? TOKEN_ISSUER)
      .setAudience(options.audience ?? TOKEN_AUDIENCE)
      .setSubject(w.gpOfA.clientId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 300)
      .sign(options.key ?? key());
  }

  it('a well-crafted token is accepted (the forgeries below differ by one thing)', async () => {
    const { res } = await attempt(w, {
      method: 'GET',
      url: `/fhir/R4/Binary/${w.ids.docs.masked}`,
      headers: { authorization: `Bearer ${await craft()}` },
    });
    expect(res.statusCode).toBe(200);
  });

  it('signed with another key', async () =>
    expectRefused(await craft({ key: randomBytes(32) }), 'other key'));
  it('with alg none', async () => {
    const iat = Math.floor(clockOf(w.rt).now().getTime() / 1000);
    const none = new UnsecuredJWT({ cid: await cidOf(w.gpOfA), rpps: w.gpOfA.rpps, scope: 'x' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(w.gpOfA.clientId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 300)
      .encode();
    await expectRefused(none, 'alg none');
  });
  it('HS512 with the right key', async () =>
    expectRefused(await craft({ alg: 'HS512', key: randomBytes(64) }), 'HS512'));
  it('for another audience', async () => expectRefused(await craft({ audience: 'carnet-api' }), 'audience'));
  it('from another issuer', async () =>
    expectRefused(await craft({ issuer: 'https://evil.example' }), 'issuer'));
  it('naming another RPPS than its client', async () =>
    expectRefused(await craft({ rpps: w.pros.stranger.rpps }), 'rpps mismatch'));
  it('garbage, empty, or another scheme', async () => {
    await expectRefused('abc.def.ghi', 'garbage');
    await expectRefused(undefined, 'no token', 'Bearer');
    await expectRefused(
      undefined,
      'basic',
      `Basic ${Buffer.from(`${w.gpOfA.clientId}:${w.gpOfA.clientSecret}`).toString('base64')}`,
    );
  });

  it('expired, by one second', async () => {
    const token = await tokenFor(w.rt.app, w.gpOfA);
    clockOf(w.rt).advance(w.rt.config.tokenTtlSeconds * 1000 + 1000);
    try {
      await expectRefused(token, 'expired');
    } finally {
      clockOf(w.rt).set(new Date(clockOf(w.rt).now().getTime() - w.rt.config.tokenTtlSeconds * 1000 - 1000));
    }
  });

  it.each([
    ['oauth_clients', 'its client'],
    ['professionals', 'its professional'],
  ] as const)('live, but %s deactivated after issue (%s)', async (table, _) => {
    const gp = await professional(w.rt, '10');
    const rule = await w.rt.app.inject({
      method: 'POST',
      url: '/api/privacy/rules',
      headers: { cookie: w.a.cookie },
      payload: { kind: 'role', rpps: gp.rpps, role: 'administrator' },
    });
    expect(rule.statusCode).toBe(201);
    const ok = await attempt(w, {
      method: 'GET',
      url: `/fhir/R4/Binary/${w.ids.docs.masked}`,
      headers: { authorization: `Bearer ${gp.token}` },
    });
    expect(ok.res.statusCode).toBe(200);
    if (table === 'oauth_clients')
      await w.rt.ctx.rootDb
        .updateTable('oauth_clients')
        .set({ active: false })
        .where('client_id', '=', gp.clientId)
        .execute();
    else
      await w.rt.ctx.rootDb
        .updateTable('professionals')
        .set({ active: false })
        .where('id', '=', gp.id)
        .execute();
    await expectRefused(gp.token, `deactivated ${table}`);
  });
});

describe('patient sessions', () => {
  const targets = () => [
    `/api/documents/${w.ids.docs.upload}`,
    `/api/documents/${w.ids.docs.upload}/content`,
    '/api/documents',
    '/api/audit-events',
    '/api/privacy',
  ];
  async function expectSessionRefused(cookie: string, why: string): Promise<void> {
    for (const url of targets()) {
      const { res, rows } = await attempt(w, { method: 'GET', url, headers: { cookie } });
      expect(res.statusCode, `${why}: ${url}`).toBe(401);
      expectNoLeak(w, res, url, `${why}: ${url}`);
      expect(rows.map((r) => [r.outcome, r.actor_kind, r.entity_type])).toEqual([
        ['denied', 'anonymous', 'Session'],
      ]);
    }
  }

  it('a forged or altered session cookie is a 401', async () => {
    await expectSessionRefused(`carnet_session=${randomBytes(32).toString('base64url')}`, 'forged');
    const value = w.a.cookie.split('=')[1]!;
    const altered = `${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`;
    await expectSessionRefused(`carnet_session=${altered}`, 'altered');
  });

  it("an expired session is a 401, even on A's own documents", async () => {
    const cookie = await sessionCookieFor(w.rt.app, w.a.login, PASSWORD);
    expect(
      (await attempt(w, { method: 'GET', url: targets()[0]!, headers: { cookie } })).res.statusCode,
    ).toBe(200);
    clockOf(w.rt).advance(721 * 3600_000);
    try {
      await expectSessionRefused(cookie, 'expired');
    } finally {
      clockOf(w.rt).advance(-721 * 3600_000);
    }
  });

  it('a signed-out session is a 401 on the next request', async () => {
    const cookie = await sessionCookieFor(w.rt.app, w.a.login, PASSWORD);
    const out = await attempt(w, { method: 'DELETE', url: '/api/session', headers: { cookie } });
    expect(out.res.statusCode).toBe(204);
    await expectSessionRefused(cookie, 'signed out');
    // Only that session: A's other session still works.
    expect(
      (await attempt(w, { method: 'GET', url: targets()[0]!, headers: { cookie: w.a.cookie } })).res
        .statusCode,
    ).toBe(200);
  });
});
