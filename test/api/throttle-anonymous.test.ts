import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { closeSpace } from '../../src/modules/accounts/index.ts';
import { issueProvisionalCode, relyingParty } from '../../src/modules/identity/index.ts';
import {
  softAuthenticator,
  type SoftAuthenticator,
} from '../../src/modules/identity/passkey.test-support.ts';
import { createTestRuntime, seedPatient, type TestRuntime } from '../harness.ts';
import { clockOf, pendingPerson, START, WEEK } from '../accounts/support.ts';
import { professional } from '../trust/support.ts';
import { signedInPatient } from './support.ts';

/**
 * Throttling of the anonymous routes that check a provisional code, an opposition reference or an
 * authentication (identity's throttle.ts): opposition and its proof, re-opening with a code (per
 * matricule and per IP, 5 failures lock 15 minutes), passkey sign-in and the professional
 * callback (per IP, 50 failures). Each test comes from its own address; the clock only moves on.
 */

let rt: TestRuntime;
let ipSeq = 0;
const newIp = () => `203.0.113.${++ipSeq}`;
const LOCK_MS = 15 * 60_000;
let unknownSeq = 0;
/** A matricule nobody has, fresh for each test (locks must not carry over between tests). */
const unknownMatricule = () => `2999999999${String(++unknownSeq).padStart(5, '0')}`;
const WRONG_CODE = 'AAAA-BBBB-CCCC-DDDD';

beforeAll(async () => {
  rt = await createTestRuntime({ clock: START, env: { PRO_OIDC_TEST_PROVIDER: 'true' } });
});
afterAll(async () => {
  await rt?.close();
});

type Inject = (app: FastifyInstance) => Promise<LightMyRequestResponse>;

/** The same request on a fresh app over the same database (a restart). */
async function afterRestart(send: Inject): Promise<LightMyRequestResponse> {
  const restarted = await buildApp(rt.ctx);
  await restarted.ready();
  try {
    return await send(restarted);
  } finally {
    await restarted.close();
  }
}

function expectThrottled(res: LightMyRequestResponse, retryAfter = '900'): void {
  expect(res.statusCode, res.body).toBe(429);
  expect(res.headers['retry-after']).toBe(retryAfter);
}

const post =
  (url: string, payload: object, ip: string): Inject =>
  (app) =>
    app.inject({ method: 'POST', url, payload, remoteAddress: ip });

describe('POST /api/opposition', () => {
  const opposition = (payload: object, ip: string) => post('/api/opposition', payload, ip);

  it('locks a matricule after 5 mismatches (429 + Retry-After, even with the right code), like an unknown one; survives a restart; lifts after 15 minutes', async () => {
    const clock = clockOf(rt);
    const { patient, code } = await pendingPerson(rt, new Date(clock.now().getTime() + 6 * WEEK));
    const good = { code, matricule: patient.ins.matricule, birthDate: patient.birthDate };
    const unknown = { ...good, matricule: unknownMatricule() };
    const ip = newIp();
    for (let i = 0; i < 5; i++) {
      expect((await opposition({ ...good, code: WRONG_CODE }, ip)(rt.app)).statusCode).toBe(400);
      expect((await opposition(unknown, ip)(rt.app)).statusCode).toBe(400);
    }
    const known = await opposition(good, ip)(rt.app);
    expectThrottled(known);
    expect(known.json()).toEqual({ error: { code: 'rate_limited', message: expect.any(String) as unknown } });
    // No enumeration: the unknown matricule is locked with exactly the same answer.
    const stranger = await opposition(unknown, ip)(rt.app);
    expectThrottled(stranger);
    expect(stranger.body).toBe(known.body);
    // Per matricule: another address does not help; nor does a restart.
    expectThrottled(await opposition(good, newIp())(rt.app));
    expectThrottled(await afterRestart(opposition(good, newIp())));
    const status = await rt.ctx.rootDb
      .selectFrom('patients')
      .select('account_status')
      .where('id', '=', patient.id)
      .executeTakeFirstOrThrow();
    expect(status.account_status).toBe('pending');

    clock.advance(LOCK_MS);
    const res = await opposition(good, ip)(rt.app);
    expect(res.statusCode, res.body).toBe(200);
  });

  it('accepts the right code before the limit, and a success clears the matricule’s counter', async () => {
    const clock = clockOf(rt);
    const { patient, code } = await pendingPerson(rt, new Date(clock.now().getTime() + 6 * WEEK));
    const good = { code, matricule: patient.ins.matricule, birthDate: patient.birthDate };
    const ip = newIp();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++)
        expect((await opposition({ ...good, birthDate: '1901-01-01' }, ip)(rt.app)).statusCode).toBe(400);
      // Sent again after the first success: the same reference (still a success).
      const ok = await opposition(good, ip)(rt.app);
      expect(ok.statusCode, ok.body).toBe(200);
    }
  });
});

describe('POST /api/opposition/proof', () => {
  it('locks after 5 mismatches (404s), unknown matricule alike; survives a restart; lifts after 15 minutes; the right reference works before the limit', async () => {
    const clock = clockOf(rt);
    const { patient, code } = await pendingPerson(rt, new Date(clock.now().getTime() + 6 * WEEK));
    const identity = { matricule: patient.ins.matricule, birthDate: patient.birthDate };
    const opposed = await post('/api/opposition', { code, ...identity }, newIp())(rt.app);
    expect(opposed.statusCode, opposed.body).toBe(200);
    const { reference } = opposed.json<{ reference: string }>();
    const proof = (payload: object, ip: string) => post('/api/opposition/proof', payload, ip);
    const good = { reference, ...identity };
    const wrong = { ...good, reference: 'OPP-AAAA-BBBB-CCCC-DDDD' };
    const unknown = { ...good, matricule: unknownMatricule() };

    const ip = newIp();
    for (let i = 0; i < 4; i++) expect((await proof(wrong, ip)(rt.app)).statusCode).toBe(404);
    const early = await proof(good, ip)(rt.app);
    expect(early.statusCode).toBe(200);
    expect(early.headers['content-type']).toBe('application/pdf');

    for (let i = 0; i < 5; i++) {
      expect((await proof(wrong, ip)(rt.app)).statusCode).toBe(404);
      expect((await proof(unknown, ip)(rt.app)).statusCode).toBe(404);
    }
    const known = await proof(good, ip)(rt.app);
    expectThrottled(known);
    const stranger = await proof(unknown, ip)(rt.app);
    expectThrottled(stranger);
    expect(stranger.body).toBe(known.body);
    expectThrottled(await afterRestart(proof(good, newIp())));

    clock.advance(LOCK_MS);
    const res = await proof(good, ip)(rt.app);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
  });
});

describe('POST /api/account/reopening with a code', () => {
  /** A closed space and a live provisional code to re-open it. */
  async function closedPerson() {
    const patient = await seedPatient(rt.ctx);
    await closeSpace(
      rt.ctx,
      { kind: 'patient', patientId: patient.id, display: 'Camille Test', sessionId: 'test' },
      patient.id,
    );
    const { code } = await issueProvisionalCode(rt.ctx, rt.ctx.rootDb, patient.id);
    return { code, matricule: patient.ins.matricule, birthDate: patient.birthDate };
  }
  const reopen = (payload: object, ip: string) => post('/api/account/reopening', payload, ip);

  it('locks a matricule after 5 mismatches (429 + Retry-After, even with the right code), like an unknown one; survives a restart; lifts after 15 minutes', async () => {
    const good = await closedPerson();
    const unknown = { ...good, matricule: unknownMatricule() };
    const ip = newIp();
    for (let i = 0; i < 5; i++) {
      expect((await reopen({ ...good, code: WRONG_CODE }, ip)(rt.app)).statusCode).toBe(400);
      expect((await reopen(unknown, ip)(rt.app)).statusCode).toBe(400);
    }
    const known = await reopen(good, ip)(rt.app);
    expectThrottled(known);
    const stranger = await reopen(unknown, ip)(rt.app);
    expectThrottled(stranger);
    expect(stranger.body).toBe(known.body);
    expectThrottled(await reopen(good, newIp())(rt.app));
    expectThrottled(await afterRestart(reopen(good, newIp())));

    clockOf(rt).advance(LOCK_MS);
    const res = await reopen(good, ip)(rt.app);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'open' });
  });

  it('accepts the right code before the limit', async () => {
    const good = await closedPerson();
    const ip = newIp();
    for (let i = 0; i < 4; i++)
      expect((await reopen({ ...good, birthDate: '1901-01-01' }, ip)(rt.app)).statusCode).toBe(400);
    const res = await reopen(good, ip)(rt.app);
    expect(res.statusCode, res.body).toBe(200);
  });
});

describe('POST /api/passkeys/authentication', () => {
  const garbage = {
    id: 'AAAA',
    rawId: 'AAAA',
    type: 'public-key',
    response: { clientDataJSON: 'AAAA', authenticatorData: 'AAAA', signature: 'AAAA' },
  };
  const signIn = (credential: unknown, ip: string) =>
    post('/api/passkeys/authentication', { credential }, ip);

  async function withPasskey(): Promise<SoftAuthenticator> {
    const who = await signedInPatient(rt);
    const auth = softAuthenticator(relyingParty(rt.config));
    const options = await rt.app.inject({
      method: 'POST',
      url: '/api/passkeys/registration/options',
      headers: { cookie: who.cookie },
    });
    const res = await rt.app.inject({
      method: 'POST',
      url: '/api/passkeys/registration',
      headers: { cookie: who.cookie },
      payload: { credential: auth.create(options.json<PublicKeyCredentialCreationOptionsJSON>()) },
    });
    expect(res.statusCode, res.body).toBe(201);
    return auth;
  }
  async function assertion(auth: SoftAuthenticator): Promise<AuthenticationResponseJSON> {
    const res = await rt.app.inject({ method: 'POST', url: '/api/passkeys/authentication/options' });
    return auth.get(res.json<PublicKeyCredentialRequestOptionsJSON>());
  }

  it('locks an address after 50 refusals (a success does not clear it); survives a restart; lifts after 15 minutes', async () => {
    const auth = await withPasskey();
    const ip = newIp();
    for (let i = 0; i < 49; i++) expect((await signIn(garbage, ip)(rt.app)).statusCode).toBe(401);
    const early = await signIn(await assertion(auth), ip)(rt.app);
    expect(early.statusCode, early.body).toBe(200);
    expect((await signIn(garbage, ip)(rt.app)).statusCode).toBe(401);
    expectThrottled(await signIn(await assertion(auth), ip)(rt.app));
    expectThrottled(await signIn(garbage, ip)(rt.app));
    // Per IP only: the same passkey from another address is fine.
    expect((await signIn(await assertion(auth), newIp())(rt.app)).statusCode).toBe(200);
    const later = await assertion(auth);
    expectThrottled(await afterRestart(signIn(later, ip)));

    clockOf(rt).advance(LOCK_MS);
    const res = await signIn(await assertion(auth), ip)(rt.app);
    expect(res.statusCode, res.body).toBe(200);
  });
});

describe('GET /pro/callback', () => {
  const local = (url: string) => {
    const u = new URL(url, 'http://127.0.0.1:3000');
    return u.pathname + u.search;
  };
  const callback =
    (url: string, ip: string, login?: string): Inject =>
    (app) =>
      app.inject({ method: 'GET', url, remoteAddress: ip, headers: login ? { cookie: login } : {} });

  /** /pro/login and the test provider's form: the callback URL and the browser's binding cookie. */
  async function providerAnswer(rpps: string): Promise<{ url: string; login: string }> {
    const start = await rt.app.inject({ method: 'GET', url: '/pro/login' });
    expect(start.statusCode, start.body).toBe(303);
    const binding = start.cookies.find((c) => c.name === 'carnet_pro_login');
    const authorize = new URL(String(start.headers.location));
    const form = new URLSearchParams(authorize.searchParams);
    form.delete('acr_values');
    form.set('rpps', rpps);
    const res = await rt.app.inject({
      method: 'POST',
      url: '/dev/oidc/authorize',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form.toString(),
    });
    expect(res.statusCode, res.body).toBe(303);
    return { url: local(String(res.headers.location)), login: `carnet_pro_login=${binding?.value}` };
  }

  it('locks an address after 50 refusals (an HTML 429 with Retry-After); survives a restart; lifts after 15 minutes', async () => {
    const gp = await professional(rt, '10');
    const ip = newIp();
    const forged = '/pro/callback?code=forged&state=forged';
    for (let i = 0; i < 49; i++) expect((await callback(forged, ip)(rt.app)).statusCode).toBe(403);
    const first = await providerAnswer(gp.rpps);
    const early = await callback(first.url, ip, first.login)(rt.app);
    expect(early.statusCode, early.body).toBe(303);
    expect(early.headers.location).toBe('/pro/');

    expect((await callback(forged, ip)(rt.app)).statusCode).toBe(403);
    const second = await providerAnswer(gp.rpps);
    const locked = await callback(second.url, ip, second.login)(rt.app);
    expectThrottled(locked);
    expect(locked.headers['content-type']).toContain('text/html');
    expectThrottled(await afterRestart(callback(forged, ip)));

    clockOf(rt).advance(LOCK_MS);
    const third = await providerAnswer(gp.rpps);
    const res = await callback(third.url, ip, third.login)(rt.app);
    expect(res.statusCode, res.body).toBe(303);
  });
});
