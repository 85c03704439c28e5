import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { fixedClock } from '../../src/platform/clock.ts';
import { createTestRuntime, seedPatient, type TestRuntime } from '../harness.ts';
import { PASSWORD, expectApiError, signedInPatient } from './support.ts';

/** Patient sessions: POST/DELETE /api/session, GET /api/me, and the cookie gate on every /api route. */

let rt: TestRuntime;
const START = new Date('2026-03-02T08:00:00Z');

beforeAll(async () => {
  rt = await createTestRuntime({ clock: START });
});
afterAll(async () => {
  await rt?.close();
});

const signIn = (login: string, password: string) =>
  rt.app.inject({ method: 'POST', url: '/api/session', payload: { login, password } });

/** Every patient route, with a body that passes validation so only authentication can refuse it. */
const PROTECTED_ROUTES: Array<{
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  payload?: object;
}> = [
  { method: 'GET', url: '/api/me' },
  { method: 'GET', url: '/api/documents' },
  { method: 'POST', url: '/api/documents', payload: { title: 'x' } },
  { method: 'GET', url: '/api/documents/0190f2b4-0000-7000-8000-000000000000' },
  { method: 'GET', url: '/api/documents/0190f2b4-0000-7000-8000-000000000000/content' },
  { method: 'PATCH', url: '/api/documents/0190f2b4-0000-7000-8000-000000000000', payload: { title: 'x' } },
  {
    method: 'PUT',
    url: '/api/documents/0190f2b4-0000-7000-8000-000000000000/read-state',
    payload: { read: true },
  },
  { method: 'DELETE', url: '/api/documents/0190f2b4-0000-7000-8000-000000000000' },
  { method: 'GET', url: '/api/audit-events' },
];

describe('POST /api/session', () => {
  it('signs in and sets an HttpOnly, SameSite=Strict session cookie', async () => {
    const login = 'alice@test.carnet';
    const patient = await seedPatient(rt.ctx, { login, password: PASSWORD });
    const res = await signIn(login, PASSWORD);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ patientId: string; expiresAt: string }>();
    expect(body.patientId).toBe(patient.id);
    expect(new Date(body.expiresAt).getTime()).toBe(START.getTime() + rt.config.sessionTtlHours * 3600_000);
    const header = String(res.headers['set-cookie']);
    expect(header).toMatch(/^carnet_session=[A-Za-z0-9_-]{40,};/);
    expect(header).toMatch(/; HttpOnly/i);
    expect(header).toMatch(/; SameSite=Strict/i);
    expect(header).toMatch(/; Path=\//);
    // Plain HTTP in tests (CARNET_COOKIE_SECURE=auto): no Secure flag, or the browser would drop it.
    expect(header).not.toMatch(/; Secure/i);
  });

  it('treats the login case-insensitively, as the sign-in normalises it', async () => {
    const patient = await seedPatient(rt.ctx, { login: 'Bob.Martin@Test.Carnet', password: PASSWORD });
    const res = await signIn('bob.martin@test.carnet', PASSWORD);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<{ patientId: string }>().patientId).toBe(patient.id);
  });

  it('answers a wrong password and an unknown login with the same 401 body, and sets no cookie', async () => {
    const { login } = await signedInPatient(rt);
    const wrongPassword = await signIn(login, 'not the password');
    const unknownLogin = await signIn('nobody@test.carnet', PASSWORD);
    expectApiError(wrongPassword, 401, 'unauthenticated');
    expectApiError(unknownLogin, 401, 'unauthenticated');
    expect(wrongPassword.body).toBe(unknownLogin.body);
    expect(wrongPassword.headers['set-cookie']).toBeUndefined();
    expect(unknownLogin.headers['set-cookie']).toBeUndefined();
  });

  it.each([
    ['a missing password', { login: 'a@b.c' }],
    ['an empty login', { login: '', password: 'x' }],
    ['an extra field', { login: 'a@b.c', password: 'x', admin: true }],
  ])('refuses %s with 400', async (_, payload) => {
    const res = await rt.app.inject({ method: 'POST', url: '/api/session', payload });
    expectApiError(res, 400, 'invalid_input');
  });
});

describe('GET /api/me', () => {
  it('returns the signed-in person', async () => {
    const { patient, cookie } = await signedInPatient(rt);
    const res = await rt.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      id: patient.id,
      given: patient.given,
      family: patient.family,
      birthDate: patient.birthDate,
      ins: patient.ins,
    });
  });
});

describe('DELETE /api/session', () => {
  it('revokes the session: the old cookie then gets 401', async () => {
    const { cookie } = await signedInPatient(rt);
    const out = await rt.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^carnet_session=;/);
    const after = await rt.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } });
    expectApiError(after, 401, 'unauthenticated');
  });

  it('revokes only that session', async () => {
    const { login, cookie } = await signedInPatient(rt);
    const other = await signIn(login, PASSWORD);
    const otherCookie = `carnet_session=${other.cookies.find((c) => c.name === 'carnet_session')?.value}`;
    await rt.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie } });
    const res = await rt.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: otherCookie } });
    expect(res.statusCode).toBe(200);
  });

  it('is idempotent without a session', async () => {
    const res = await rt.app.inject({ method: 'DELETE', url: '/api/session' });
    expect(res.statusCode).toBe(204);
  });
});

describe('session expiry', () => {
  it('refuses a cookie once the session has expired', async () => {
    const { cookie } = await signedInPatient(rt);
    const clock = rt.clock as ReturnType<typeof fixedClock>;
    expect((await rt.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).statusCode).toBe(
      200,
    );
    clock.advance(rt.config.sessionTtlHours * 3600_000 + 1000);
    try {
      const res = await rt.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } });
      expectApiError(res, 401, 'unauthenticated');
    } finally {
      clock.set(START);
    }
  });
});

describe('the cookie gate on /api', () => {
  it.each(PROTECTED_ROUTES)('$method $url without a cookie → 401', async ({ method, url, payload }) => {
    const res = await rt.app.inject({ method, url, ...(payload ? { payload } : {}) });
    expectApiError(res, 401, 'unauthenticated');
  });

  it.each(PROTECTED_ROUTES)('$method $url with a forged cookie → 401', async ({ method, url, payload }) => {
    const forged = 'carnet_session=' + Buffer.alloc(32, 7).toString('base64url');
    const res = await rt.app.inject({
      method,
      url,
      headers: { cookie: forged },
      ...(payload ? { payload } : {}),
    });
    expectApiError(res, 401, 'unauthenticated');
  });

  it('does not accept the session token anywhere but in the cookie', async () => {
    const { cookie } = await signedInPatient(rt);
    const token = cookie.slice('carnet_session='.length);
    const res = await rt.app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { authorization: `Bearer ${token}` },
    });
    expectApiError(res, 401, 'unauthenticated');
  });
});
