import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACTIVATION_REFUSED,
  base32Decode,
  PROVISIONAL_CODE_DAYS,
  issueProvisionalCode,
  totpAt,
} from '../../src/modules/identity/index.ts';
import type { fixedClock } from '../../src/platform/clock.ts';
import { createTestRuntime, type TestRuntime } from '../harness.ts';
import { STRONG, cookieOf, importedPerson, mailedCode } from './signin-support.ts';

/** Activation (DOMAIN §2): provisional code + matricule + card serial, then password and a second factor. */

let rt: TestRuntime;
let clock: ReturnType<typeof fixedClock>;
const START = new Date('2026-03-02T08:00:00Z');

beforeAll(async () => {
  rt = await createTestRuntime({ clock: START });
  clock = rt.clock as ReturnType<typeof fixedClock>;
});
afterAll(async () => {
  await rt?.close();
});

const post = (url: string, payload?: object, cookie?: string) =>
  rt.app.inject({
    method: 'POST',
    url,
    ...(payload ? { payload } : {}),
    headers: { ...(cookie ? { cookie } : {}), 'user-agent': 'activation-test' },
  });
const get = (url: string, cookie: string) => rt.app.inject({ method: 'GET', url, headers: { cookie } });

const refusal = { error: { code: 'unauthenticated', message: ACTIVATION_REFUSED } };

async function person(status: 'pending' | 'open' = 'pending') {
  return importedPerson(rt, { status });
}

async function patientRow(id: string) {
  return rt.ctx.rootDb.selectFrom('patients').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

describe('POST /api/activation', () => {
  it('refuses every wrong fact with the same 401 body, and audits it', async () => {
    const p = await person();
    const other = await person();
    const tries = [
      { code: p.code, matricule: p.matricule, cardSerial: 'WRONG-SERIAL' },
      { code: p.code, matricule: '299999999999999', cardSerial: p.cardSerial },
      { code: 'AAAA-BBBB-CCCC-DDDD', matricule: p.matricule, cardSerial: p.cardSerial },
      { code: other.code, matricule: p.matricule, cardSerial: p.cardSerial },
    ];
    for (const body of tries) {
      const res = await post('/api/activation', body);
      expect(res.statusCode, res.body).toBe(401);
      expect(res.json()).toEqual(refusal);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    const denied = await rt.ctx.rootDb
      .selectFrom('audit_events')
      .select(['action', 'outcome'])
      .where('patient_id', '=', p.patient.id)
      .where('outcome', '=', 'denied')
      .execute();
    expect(denied.length).toBe(3);
    // The wrong serial did not burn the code: it still activates.
    const ok = await post('/api/activation', {
      code: p.code,
      matricule: p.matricule,
      cardSerial: p.cardSerial,
    });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('accepts a code once only', async () => {
    const p = await person();
    const body = { code: p.code.toLowerCase(), matricule: p.matricule, cardSerial: p.cardSerial };
    expect((await post('/api/activation', body)).statusCode).toBe(200);
    const again = await post('/api/activation', body);
    expect(again.statusCode).toBe(401);
    expect(again.json()).toEqual(refusal);
  });

  it(`refuses a code older than ${PROVISIONAL_CODE_DAYS} days`, async () => {
    const p = await person();
    clock.advance((PROVISIONAL_CODE_DAYS + 1) * 86_400_000);
    try {
      const res = await post('/api/activation', {
        code: p.code,
        matricule: p.matricule,
        cardSerial: p.cardSerial,
      });
      expect(res.json()).toEqual(refusal);
    } finally {
      clock.set(START);
    }
  });

  it('a re-issued code revokes the previous one', async () => {
    const p = await person();
    const second = await issueProvisionalCode(rt.ctx, rt.ctx.rootDb, p.patient.id);
    const old = await post('/api/activation', {
      code: p.code,
      matricule: p.matricule,
      cardSerial: p.cardSerial,
    });
    expect(old.json()).toEqual(refusal);
    const res = await post('/api/activation', {
      code: second.code,
      matricule: p.matricule,
      cardSerial: p.cardSerial,
    });
    expect(res.statusCode, res.body).toBe(200);
  });

  it('refuses an opposed, suspended or already activated space the same way', async () => {
    for (const status of ['opposed', 'suspended', 'closed'] as const) {
      const p = await importedPerson(rt, { status });
      const res = await post('/api/activation', {
        code: p.code,
        matricule: p.matricule,
        cardSerial: p.cardSerial,
      });
      expect(res.json(), status).toEqual(refusal);
    }
  });
});

describe('the whole activation journey with TOTP', () => {
  it('code → password → TOTP → signed in; then sign-in asks the TOTP, never the same code twice', async () => {
    const p = await person('pending');
    const login = `act-${p.patient.id.slice(-6)}@test.carnet`;
    const start = await post('/api/activation', {
      code: p.code,
      matricule: p.matricule,
      cardSerial: p.cardSerial,
    });
    expect(start.statusCode, start.body).toBe(200);
    const enrolment = cookieOf(start);
    expect(new Date(start.json<{ expiresAt: string }>().expiresAt).getTime()).toBe(
      START.getTime() + 30 * 60_000,
    );
    // The enrolment session signs nobody in.
    expect((await get('/api/me', enrolment)).statusCode).toBe(401);
    expect((await get('/api/activation', enrolment)).json()).toEqual({
      complete: false,
      password: false,
      secondFactor: false,
    });

    // Password rules.
    for (const [password, why] of [
      ['short pass', /at least 12/],
      [login, /login/],
      ['password1234', /common/],
      ['abcabcabcabcabc', /common|repetitive/],
    ] as const) {
      const res = await post('/api/activation/password', { login, password }, enrolment);
      expect(res.statusCode, password).toBe(400);
      expect(res.json<{ error: { message: string } }>().error.message).toMatch(why);
    }
    const pw = await post('/api/activation/password', { login, password: STRONG }, enrolment);
    expect(pw.json()).toEqual({ complete: false, password: true, secondFactor: false });
    // Nothing is the person's yet.
    expect((await patientRow(p.patient.id)).login).toBeNull();

    const totp = await post('/api/activation/totp', undefined, enrolment);
    expect(totp.statusCode, totp.body).toBe(200);
    const { secret, otpauthUri } = totp.json<{ secret: string; otpauthUri: string }>();
    expect(otpauthUri).toContain(`secret=${secret}`);
    const seed = base32Decode(secret);
    // The seed is stored sealed, never in clear.
    const stored = await rt.ctx.rootDb
      .selectFrom('second_factors')
      .select('sealed_secret')
      .where('patient_id', '=', p.patient.id)
      .executeTakeFirstOrThrow();
    expect(stored.sealed_secret?.toString('latin1')).not.toContain(secret);

    const wrong = await post('/api/activation/totp/confirm', { code: '000000' }, enrolment);
    expect(wrong.statusCode).toBe(400);
    const firstCode = totpAt(seed, clock.now());
    const done = await post('/api/activation/totp/confirm', { code: firstCode }, enrolment);
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({ complete: true, patientId: p.patient.id });
    const signedIn = cookieOf(done);
    expect(signedIn).not.toBe(enrolment);
    expect((await get('/api/me', signedIn)).statusCode).toBe(200);
    // The enrolment cookie is spent.
    expect((await get('/api/me', enrolment)).statusCode).toBe(401);
    expect((await get('/api/activation', enrolment)).statusCode).toBe(401);

    const row = await patientRow(p.patient.id);
    expect(row.account_status).toBe('open');
    expect(row.activated_at).toEqual(START);
    expect(row.login).toBe(login);
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    const events = await rt.ctx.rootDb
      .selectFrom('audit_events')
      .select(['action', 'outcome'])
      .where('patient_id', '=', p.patient.id)
      .orderBy('seq')
      .execute();
    expect(events).toEqual(
      expect.arrayContaining([
        { action: 'activation-start', outcome: 'success' },
        { action: 'activate', outcome: 'success' },
      ]),
    );

    // Sign-in now needs the TOTP; the code used at enrolment (same time step) is refused.
    const first = await post('/api/session', { login, password: STRONG });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ secondFactor: 'totp' });
    const pending = cookieOf(first);
    expect((await get('/api/me', pending)).statusCode).toBe(401);
    const replay = await post('/api/session/second-factor', { code: firstCode }, pending);
    expect(replay.statusCode).toBe(401);
    clock.advance(30_000);
    try {
      const code = totpAt(seed, clock.now());
      const ok = await post('/api/session/second-factor', { code }, pending);
      expect(ok.statusCode, ok.body).toBe(200);
      expect(ok.json()).toMatchObject({ patientId: p.patient.id });
      const fresh = cookieOf(ok);
      expect(fresh).not.toBe(pending);
      expect((await get('/api/me', fresh)).statusCode).toBe(200);
      // The pending cookie is revoked; the same code in another sign-in is refused too.
      expect((await post('/api/session/second-factor', { code }, pending)).statusCode).toBe(401);
      const again = cookieOf(await post('/api/session', { login, password: STRONG }));
      expect((await post('/api/session/second-factor', { code }, again)).statusCode).toBe(401);
      // A previous step (inside the ±1 window) is older than the last used one: refused.
      const older = totpAt(seed, new Date(clock.now().getTime() - 30_000));
      expect((await post('/api/session/second-factor', { code: older }, again)).statusCode).toBe(401);
    } finally {
      clock.set(START);
    }

    // A second activation of the same space is refused (code spent, space activated).
    const twice = await post('/api/activation', {
      code: p.code,
      matricule: p.matricule,
      cardSerial: p.cardSerial,
    });
    expect(twice.json()).toEqual(refusal);
  });

  it('refuses a login already taken', async () => {
    const a = await person();
    const b = await person();
    const login = `taken-${a.patient.id.slice(-6)}@test.carnet`;
    const ca = cookieOf(
      await post('/api/activation', { code: a.code, matricule: a.matricule, cardSerial: a.cardSerial }),
    );
    await post('/api/activation/password', { login, password: STRONG }, ca);
    const secret = (await post('/api/activation/totp', undefined, ca)).json<{ secret: string }>().secret;
    const done = await post(
      '/api/activation/totp/confirm',
      { code: totpAt(base32Decode(secret), clock.now()) },
      ca,
    );
    expect(done.statusCode, done.body).toBe(200);
    const cb = cookieOf(
      await post('/api/activation', { code: b.code, matricule: b.matricule, cardSerial: b.cardSerial }),
    );
    const res = await post('/api/activation/password', { login: login.toUpperCase(), password: STRONG }, cb);
    expect(res.statusCode).toBe(409);
  });
});

describe('activation with one-time codes by e-mail', () => {
  it('second factor first, then the password completes it; sign-in sends a code, 5 attempts at most', async () => {
    const p = await person('open');
    const email = `otp-${p.patient.id.slice(-6)}@mail.test`;
    const login = `login-${p.patient.id.slice(-6)}@test.carnet`;
    const enrolment = cookieOf(
      await post('/api/activation', { code: p.code, matricule: p.matricule, cardSerial: p.cardSerial }),
    );
    const sent = await post('/api/activation/email-otp', { email }, enrolment);
    expect(sent.statusCode, sent.body).toBe(202);
    expect(sent.json<{ sentTo: string }>().sentTo).toMatch(/^o•••[0-9a-f]@mail\.test$/);
    const code = await mailedCode(rt, email);
    const confirmed = await post('/api/activation/email-otp/confirm', { code }, enrolment);
    expect(confirmed.json()).toEqual({ complete: false, password: false, secondFactor: true });
    // A code works once.
    expect((await post('/api/activation/email-otp/confirm', { code }, enrolment)).statusCode).toBe(400);
    const done = await post('/api/activation/password', { login, password: STRONG }, enrolment);
    expect(done.json()).toMatchObject({ complete: true, patientId: p.patient.id });
    const signedIn = cookieOf(done);
    const security = await get('/api/account/security', signedIn);
    expect(security.json()).toMatchObject({
      hasPassword: true,
      secondFactors: [{ kind: 'email', label: expect.stringContaining('@mail.test') as unknown }],
      sessions: [{ current: true, authMethod: 'password+email', userAgent: 'activation-test' }],
    });

    // Sign-in: a code is mailed; a wrong code counts; the right one signs in.
    const first = await post('/api/session', { login, password: STRONG });
    expect(first.json()).toMatchObject({ secondFactor: 'email' });
    const pending = cookieOf(first);
    const mailed = await mailedCode(rt, email);
    expect(
      (await post('/api/session/second-factor', { code: '999999' === mailed ? '999998' : '999999' }, pending))
        .statusCode,
    ).toBe(401);
    const ok = await post('/api/session/second-factor', { code: mailed }, pending);
    expect(ok.statusCode, ok.body).toBe(200);

    // Five wrong codes in a row lock the account (the success above cleared the first one).
    const second = cookieOf(await post('/api/session', { login, password: STRONG }));
    const good = await mailedCode(rt, email);
    const bad = good === '000000' ? '000001' : '000000';
    for (let i = 0; i < 5; i++)
      expect((await post('/api/session/second-factor', { code: bad }, second)).statusCode).toBe(401);
    const after = await post('/api/session/second-factor', { code: good }, second);
    expect(after.statusCode).toBe(429);
    expect(after.headers['retry-after']).toBe('900');
  });

  it('an e-mail code expires after 10 minutes', async () => {
    const p = await person();
    const email = `late-${p.patient.id.slice(-6)}@mail.test`;
    const enrolment = cookieOf(
      await post('/api/activation', { code: p.code, matricule: p.matricule, cardSerial: p.cardSerial }),
    );
    await post('/api/activation/email-otp', { email }, enrolment);
    const code = await mailedCode(rt, email);
    clock.advance(10 * 60_000 + 1000);
    try {
      expect((await post('/api/activation/email-otp/confirm', { code }, enrolment)).statusCode).toBe(400);
    } finally {
      clock.set(START);
    }
  });
});
