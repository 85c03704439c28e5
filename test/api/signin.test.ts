import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { base32Decode, totpAt } from '../../src/modules/identity/index.ts';
import type { fixedClock } from '../../src/platform/clock.ts';
import { createTestRuntime, rawInject, seedPatient, type TestRuntime } from '../harness.ts';
import { PASSWORD, signedInPatient } from './support.ts';
import { STRONG, cookieOf, mailedCode } from './signin-support.ts';

/** Throttled sign-in, no enumeration, second factors, sessions and devices, CSRF. */

let rt: TestRuntime;
let clock: ReturnType<typeof fixedClock>;
const START = new Date('2026-03-02T08:00:00Z');
let ipSeq = 0;

beforeAll(async () => {
  rt = await createTestRuntime({ clock: START });
  clock = rt.clock as ReturnType<typeof fixedClock>;
});
afterAll(async () => {
  await rt?.close();
});

/** Each test signs in from its own address, so per-IP counters do not mix between tests. */
const newIp = () => `198.51.100.${++ipSeq}`;

const signIn = (login: string, password: string, ip = '192.0.2.1') =>
  rt.app.inject({ method: 'POST', url: '/api/session', payload: { login, password }, remoteAddress: ip });
const call = (method: 'GET' | 'POST' | 'DELETE', url: string, cookie: string, payload?: object) =>
  rt.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) });

async function withTotp(cookie: string): Promise<Buffer> {
  const start = await call('POST', '/api/account/second-factors/totp', cookie);
  expect(start.statusCode, start.body).toBe(200);
  const seed = base32Decode(start.json<{ secret: string }>().secret);
  const ok = await call('POST', '/api/account/second-factors/totp/confirm', cookie, {
    code: totpAt(seed, clock.now()),
  });
  expect(ok.statusCode, ok.body).toBe(200);
  return seed;
}

describe('throttling per account', () => {
  it('locks after 5 failures for 15 min (429 + Retry-After, even with the right password), then doubles', async () => {
    const { login } = await signedInPatient(rt);
    const ip = newIp();
    for (let i = 0; i < 5; i++) expect((await signIn(login, 'wrong password', ip)).statusCode).toBe(401);
    const locked = await signIn(login, PASSWORD, ip);
    expect(locked.statusCode).toBe(429);
    expect(locked.headers['retry-after']).toBe('900');
    expect(locked.json()).toEqual({
      error: { code: 'rate_limited', message: expect.any(String) as unknown },
    });
    // Another address does not help: the account is locked.
    expect((await signIn(login, PASSWORD, newIp())).statusCode).toBe(429);
    clock.advance(15 * 60_000);
    try {
      for (let i = 0; i < 5; i++) expect((await signIn(login, 'wrong again', ip)).statusCode).toBe(401);
      const second = await signIn(login, PASSWORD, ip);
      expect(second.headers['retry-after']).toBe('1800');
      clock.advance(30 * 60_000);
      expect((await signIn(login, PASSWORD, ip)).statusCode).toBe(200);
    } finally {
      clock.set(START);
    }
  });

  it('locks an unknown login exactly the same way (no enumeration)', async () => {
    const { login } = await signedInPatient(rt);
    const unknown = `nobody-${login}`;
    const ip = newIp();
    for (let i = 0; i < 5; i++) {
      const [a, b] = [await signIn(login, 'wrong password', ip), await signIn(unknown, 'wrong password', ip)];
      expect(a.statusCode).toBe(401);
      expect(b.body).toBe(a.body);
    }
    const [a, b] = [await signIn(login, PASSWORD, ip), await signIn(unknown, PASSWORD, ip)];
    expect(a.statusCode).toBe(429);
    expect(b.statusCode).toBe(429);
    expect(b.body).toBe(a.body);
    expect(b.headers['retry-after']).toBe(a.headers['retry-after']);
  });

  it('keeps no clear login or IP in the throttle table, and the lock survives a new app on the same database', async () => {
    const { login } = await signedInPatient(rt);
    const ip = newIp();
    for (let i = 0; i < 5; i++) await signIn(login, 'wrong password', ip);
    const rows = await rt.ctx.rootDb.selectFrom('auth_throttle').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.key.length).toBe(32);
      expect(r.key.toString('latin1')).not.toContain(login);
      expect(r.key.toString('latin1')).not.toContain(ip);
    }
    // A restart: a fresh app instance over the same database still refuses.
    const restarted = await buildApp(rt.ctx);
    await restarted.ready();
    try {
      const res = await restarted.inject({
        method: 'POST',
        url: '/api/session',
        payload: { login, password: PASSWORD },
        remoteAddress: ip,
      });
      expect(res.statusCode).toBe(429);
    } finally {
      await restarted.close();
    }
  });
});

describe('throttling per IP', () => {
  it('locks an address after 50 failures within 15 minutes, whatever the logins', async () => {
    const ip = newIp();
    const { login } = await signedInPatient(rt);
    for (let i = 0; i < 50; i++) {
      const res = await signIn(`spray-${i}@nowhere.test`, 'Password1234', ip);
      expect(res.statusCode).toBe(401);
    }
    const res = await signIn(login, PASSWORD, ip);
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBe(900);
    expect((await signIn(login, PASSWORD, newIp())).statusCode).toBe(200);
  });

  it('throttles activation by matricule too', async () => {
    const ip = newIp();
    const body = { code: 'AAAA-BBBB-CCCC-DDDD', matricule: '285037512345678', cardSerial: 'X' };
    const post = () =>
      rt.app.inject({ method: 'POST', url: '/api/activation', payload: body, remoteAddress: ip });
    for (let i = 0; i < 5; i++) expect((await post()).statusCode).toBe(401);
    const res = await post();
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('900');
  });
});

describe('no user enumeration', () => {
  it('same status and body for unknown login, wrong password and a space that is not open; similar timing', async () => {
    const { login } = await signedInPatient(rt);
    const closed = await signedInPatient(rt);
    await sql`update patients set account_status = 'closed' where id = ${closed.patient.id}`.execute(
      rt.ctx.rootDb,
    );
    const suspended = await signedInPatient(rt);
    await sql`update patients set account_status = 'suspended' where id = ${suspended.patient.id}`.execute(
      rt.ctx.rootDb,
    );
    const answers = [
      await signIn(`unknown-${login}`, PASSWORD, newIp()),
      await signIn(login, 'not the password', newIp()),
      await signIn(closed.login, PASSWORD, newIp()),
      await signIn(suspended.login, PASSWORD, newIp()),
    ];
    for (const a of answers) {
      expect(a.statusCode).toBe(401);
      expect(a.body).toBe(answers[0]?.body);
      expect(a.headers['set-cookie']).toBeUndefined();
    }
    // Timing: the mean of N tries, unknown login vs wrong password, within a generous ratio.
    const N = 6;
    const time = async (l: string) => {
      const ip = newIp();
      const t0 = performance.now();
      for (let i = 0; i < N; i++) await signIn(l, `wrong ${i}`, ip);
      return (performance.now() - t0) / N;
    };
    const other = await signedInPatient(rt);
    await time(`warm-${login}`);
    const unknown = await time(`ghost-${login}`);
    const known = await time(other.login);
    // (Each series stays under the lock: 5 failures lock, the sixth is a cheap 429 in both.)
    expect(unknown / known).toBeGreaterThan(0.5);
    expect(unknown / known).toBeLessThan(2);
  });
});

describe('second factor at sign-in', () => {
  it('a registration-era account signs in with its password alone until it enrols a factor', async () => {
    const p = await signedInPatient(rt);
    const seed = await withTotp(p.cookie);
    const res = await signIn(p.login, PASSWORD, newIp());
    expect(res.json()).toMatchObject({ secondFactor: 'totp' });
    expect(res.json()).not.toHaveProperty('patientId');
    const pending = cookieOf(res);
    clock.advance(30_000);
    try {
      const ok = await call('POST', '/api/session/second-factor', pending, {
        code: totpAt(seed, clock.now()),
      });
      expect(ok.statusCode, ok.body).toBe(200);
      expect(ok.json()).toMatchObject({ patientId: p.patient.id });
    } finally {
      clock.set(START);
    }
  });

  it('an imported person without a factor cannot sign in with a password alone', async () => {
    const login = `imp-${ipSeq}@test.carnet`;
    const patient = await seedPatient(rt.ctx, { login, password: PASSWORD });
    await sql`update patients set origin = 'import' where id = ${patient.id}`.execute(rt.ctx.rootDb);
    expect((await signIn(login, PASSWORD, newIp())).statusCode).toBe(401);
  });

  it('the pending session expires after 5 minutes', async () => {
    const p = await signedInPatient(rt);
    const seed = await withTotp(p.cookie);
    const pending = cookieOf(await signIn(p.login, PASSWORD, newIp()));
    clock.advance(5 * 60_000 + 1000);
    try {
      const res = await call('POST', '/api/session/second-factor', pending, {
        code: totpAt(seed, clock.now()),
      });
      expect(res.statusCode).toBe(401);
    } finally {
      clock.set(START);
    }
  });

  it('an e-mail factor added from the security page sends a code at sign-in', async () => {
    const p = await signedInPatient(rt);
    const email = `sf-${p.patient.id.slice(-6)}@mail.test`;
    expect((await call('POST', '/api/account/second-factors/email', p.cookie, { email })).statusCode).toBe(
      202,
    );
    const confirm = await call('POST', '/api/account/second-factors/email/confirm', p.cookie, {
      code: await mailedCode(rt, email),
    });
    expect(confirm.statusCode, confirm.body).toBe(200);
    const res = await signIn(p.login, PASSWORD, newIp());
    expect(res.json()).toMatchObject({ secondFactor: 'email' });
    const ok = await call('POST', '/api/session/second-factor', cookieOf(res), {
      code: await mailedCode(rt, email),
    });
    expect(ok.statusCode, ok.body).toBe(200);
  });
});

describe('security page: sessions and devices', () => {
  it('lists sessions and factors; revokes one, then all others; the current one survives', async () => {
    const p = await signedInPatient(rt);
    const second = cookieOf(await signIn(p.login, PASSWORD, newIp()));
    const third = cookieOf(await signIn(p.login, PASSWORD, newIp()));
    expect(second).not.toBe(p.cookie);
    const page = await call('GET', '/api/account/security', p.cookie);
    expect(page.statusCode, page.body).toBe(200);
    const sessions = page.json<{ sessions: Array<{ id: string; current: boolean; authMethod: string }> }>()
      .sessions;
    expect(sessions).toHaveLength(3);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    expect(page.json()).toMatchObject({ secondFactors: [], hasPassword: true });

    const secondId = (await call('GET', '/api/account/security', second))
      .json<{ sessions: Array<{ id: string; current: boolean }> }>()
      .sessions.find((s) => s.current)?.id;
    const del = await call('DELETE', `/api/account/sessions/${secondId}`, p.cookie);
    expect(del.statusCode).toBe(204);
    expect((await call('GET', '/api/me', second)).statusCode).toBe(401);
    expect((await call('DELETE', `/api/account/sessions/${secondId}`, p.cookie)).statusCode).toBe(404);

    const all = await call('DELETE', '/api/account/sessions', p.cookie);
    expect(all.json()).toEqual({ revoked: 1 });
    expect((await call('GET', '/api/me', third)).statusCode).toBe(401);
    expect((await call('GET', '/api/me', p.cookie)).statusCode).toBe(200);

    const everything = await call('DELETE', '/api/account/sessions?includeCurrent=true', p.cookie);
    expect(everything.json()).toEqual({ revoked: 1 });
    expect((await call('GET', '/api/me', p.cookie)).statusCode).toBe(401);
  });

  it("another person's session id is 404 and audited as denied; that session keeps working", async () => {
    const a = await signedInPatient(rt);
    const b = await signedInPatient(rt);
    const aSession = (await call('GET', '/api/account/security', a.cookie)).json<{
      sessions: Array<{ id: string }>;
    }>().sessions[0]?.id;
    const res = await call('DELETE', `/api/account/sessions/${aSession}`, b.cookie);
    expect(res.statusCode).toBe(404);
    expect((await call('GET', '/api/me', a.cookie)).statusCode).toBe(200);
    const denied = await rt.ctx.rootDb
      .selectFrom('audit_events')
      .select(['actor_id', 'outcome'])
      .where('actor_id', '=', b.patient.id)
      .where('outcome', '=', 'denied')
      .execute();
    expect(denied.length).toBe(1);
  });

  it('refuses to remove the last second factor while a password exists; removes one of two', async () => {
    const p = await signedInPatient(rt);
    await withTotp(p.cookie);
    clock.advance(60_000);
    try {
      await withTotp(p.cookie);
    } finally {
      clock.set(START);
    }
    const factors = (await call('GET', '/api/account/security', p.cookie)).json<{
      secondFactors: Array<{ id: string; kind: string }>;
    }>().secondFactors;
    expect(factors.map((f) => f.kind)).toEqual(['totp', 'totp']);
    const [f1, f2] = factors;
    expect((await call('DELETE', `/api/account/second-factors/${f1?.id}`, p.cookie)).statusCode).toBe(204);
    const last = await call('DELETE', `/api/account/second-factors/${f2?.id}`, p.cookie);
    expect(last.statusCode).toBe(409);
    expect(last.json<{ error: { message: string } }>().error.message).toMatch(/last second factor/);
  });

  it('a password change revokes every other session and rotates the current one', async () => {
    const p = await signedInPatient(rt);
    const other = cookieOf(await signIn(p.login, PASSWORD, newIp()));
    const wrong = await call('POST', '/api/account/password', p.cookie, { current: 'nope', new: STRONG });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ error: { field: 'current' } });
    const weak = await call('POST', '/api/account/password', p.cookie, { current: PASSWORD, new: 'short' });
    expect(weak.json()).toMatchObject({ error: { field: 'new' } });
    const res = await call('POST', '/api/account/password', p.cookie, { current: PASSWORD, new: STRONG });
    expect(res.statusCode, res.body).toBe(200);
    const rotated = cookieOf(res);
    expect(rotated).not.toBe(p.cookie);
    expect((await call('GET', '/api/me', p.cookie)).statusCode).toBe(401);
    expect((await call('GET', '/api/me', other)).statusCode).toBe(401);
    expect((await call('GET', '/api/me', rotated)).statusCode).toBe(200);
    expect((await signIn(p.login, PASSWORD, newIp())).statusCode).toBe(401);
    expect((await signIn(p.login, STRONG, newIp())).statusCode).toBe(200);
  });

  it('sign-out revokes the session', async () => {
    const p = await signedInPatient(rt);
    expect((await call('DELETE', '/api/session', p.cookie)).statusCode).toBe(204);
    expect((await call('GET', '/api/account/security', p.cookie)).statusCode).toBe(401);
  });
});

describe('CSRF', () => {
  it('refuses a state-changing request with the cookie but no X-CSRF-Token, or from another origin', async () => {
    const p = await signedInPatient(rt);
    const raw = rawInject(rt.app);
    const bare = await raw({ method: 'DELETE', url: '/api/account/sessions', headers: { cookie: p.cookie } });
    expect(bare.statusCode).toBe(403);
    const evil = await rt.app.inject({
      method: 'POST',
      url: '/api/account/password',
      headers: { cookie: p.cookie, origin: 'https://evil.example' },
      payload: { current: PASSWORD, new: STRONG },
    });
    expect(evil.statusCode).toBe(403);
    const login = await raw({
      method: 'POST',
      url: '/api/session',
      headers: { origin: 'https://evil.example' },
      payload: { login: p.login, password: PASSWORD },
    });
    expect(login.statusCode).toBe(403);
    expect((await call('GET', '/api/me', p.cookie)).statusCode).toBe(200);
  });
});
