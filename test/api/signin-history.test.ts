import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode, relyingParty, totpAt } from '../../src/modules/identity/index.ts';
import { softAuthenticator } from '../../src/modules/identity/passkey.test-support.ts';
import type { fixedClock } from '../../src/platform/clock.ts';
import { createTestRuntime, type TestRuntime } from '../harness.ts';
import { cookieOf } from './signin-support.ts';
import { auditRows, PASSWORD, signedInPatient, type ApiAuditEvent } from './support.ts';

/**
 * Sign-ins and sign-outs on the person's own trail: shown in the "my activities" tab with how the
 * person signed in; a refused attempt never shows as a sign-in.
 */

const START = new Date('2026-05-04T08:00:00Z');
let rt: TestRuntime;
let clock: ReturnType<typeof fixedClock>;

beforeAll(async () => {
  rt = await createTestRuntime({ clock: START });
  clock = rt.clock as ReturnType<typeof fixedClock>;
});
afterAll(async () => {
  await rt?.close();
});

const call = (method: 'GET' | 'POST' | 'DELETE', url: string, cookie?: string, payload?: object) =>
  rt.app.inject({ method, url, ...(cookie ? { headers: { cookie } } : {}), ...(payload ? { payload } : {}) });

async function history(cookie: string, tab?: 'mine'): Promise<ApiAuditEvent[]> {
  const res = await call('GET', `/api/audit-events?limit=200${tab ? `&tab=${tab}` : ''}`, cookie);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: ApiAuditEvent[] }>().items;
}

const sessionEntries = (items: ApiAuditEvent[]) =>
  items
    .filter((e) => e.entity.type === 'Session')
    .map((e) => ({ action: e.action, outcome: e.outcome, method: e.method, label: e.label?.fr }));

describe('password and second factor', () => {
  it('shows each sign-in with its method and each sign-out; a wrong code adds no sign-in', async () => {
    const p = await signedInPatient(rt);
    const start = await call('POST', '/api/account/second-factors/totp', p.cookie);
    expect(start.statusCode, start.body).toBe(200);
    const seed = base32Decode(start.json<{ secret: string }>().secret);
    const confirmed = await call('POST', '/api/account/second-factors/totp/confirm', p.cookie, {
      code: totpAt(seed, clock.now()),
    });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect((await call('DELETE', '/api/session', p.cookie)).statusCode).toBe(204);
    // Signing out again with the same cookie closes nothing: no second entry.
    expect((await call('DELETE', '/api/session', p.cookie)).statusCode).toBe(204);

    clock.advance(60_000);
    const pending = await call('POST', '/api/session', undefined, { login: p.login, password: PASSWORD });
    expect(pending.json()).toMatchObject({ secondFactor: 'totp' });
    const wrong = await call('POST', '/api/session/second-factor', cookieOf(pending), { code: '000000' });
    expect(wrong.statusCode).toBe(401);
    const done = await call('POST', '/api/session/second-factor', cookieOf(pending), {
      code: totpAt(seed, clock.now()),
    });
    expect(done.statusCode, done.body).toBe(200);
    const cookie = cookieOf(done);

    const mine = await history(cookie, 'mine');
    expect(sessionEntries(mine)).toEqual([
      {
        action: 'authenticate',
        outcome: 'success',
        method: 'password+totp',
        label: 'Connexion (mot de passe et application d’authentification)',
      },
      { action: 'sign-out', outcome: 'success', method: undefined, label: 'Déconnexion' },
      { action: 'authenticate', outcome: 'success', method: 'password', label: 'Connexion (mot de passe)' },
    ]);
    const signIn = mine.find((e) => e.action === 'authenticate');
    expect(signIn).toMatchObject({
      actor: { kind: 'patient', id: p.patient.id },
      basis: 'owner',
      label: { en: 'Sign-in (password and authenticator app)' },
    });
    // The entry names the new session, and no more than the method: no address, no browser.
    const [row] = await auditRows(rt, { patientId: p.patient.id, entityId: signIn?.entity.id ?? '' });
    expect(row).toMatchObject({ action: 'authenticate', details: { method: 'password+totp' } });
    const session = await rt.ctx.rootDb
      .selectFrom('sessions')
      .select(['auth_method', 'revoked_at'])
      .where('id', '=', signIn?.entity.id ?? '')
      .executeTakeFirstOrThrow();
    expect(session).toEqual({ auth_method: 'password+totp', revoked_at: null });

    const csv = await call('GET', '/api/audit-events/export?format=csv&tab=mine', cookie);
    expect(csv.body).toContain(`,authenticate,Session,${signIn?.entity.id},success,owner,password+totp\r\n`);
  });
});

describe('passkey', () => {
  it('shows a passkey sign-in; a refused one stays off "my activities" and never reads as a sign-in', async () => {
    const p = await signedInPatient(rt);
    const rp = relyingParty(rt.config);
    const auth = softAuthenticator(rp);
    const regOptions = await call('POST', '/api/passkeys/registration/options', p.cookie);
    expect(regOptions.statusCode, regOptions.body).toBe(200);
    const registered = await call('POST', '/api/passkeys/registration', p.cookie, {
      credential: auth.create(regOptions.json<PublicKeyCredentialCreationOptionsJSON>()),
    });
    expect(registered.statusCode, registered.body).toBe(201);
    const options = async () =>
      (
        await call('POST', '/api/passkeys/authentication/options')
      ).json<PublicKeyCredentialRequestOptionsJSON>();

    clock.advance(60_000);
    const refused = await call('POST', '/api/passkeys/authentication', undefined, {
      credential: auth.get(await options(), { origin: 'https://carnet.example.evil' }),
    });
    expect(refused.statusCode).toBe(401);
    clock.advance(60_000);
    const ok = await call('POST', '/api/passkeys/authentication', undefined, {
      credential: auth.get(await options()),
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const cookie = cookieOf(ok);

    const signIns = (await history(cookie, 'mine')).filter((e) => e.action === 'authenticate');
    expect(signIns.map((e) => [e.outcome, e.method, e.label?.en])).toEqual([
      ['success', 'passkey', 'Sign-in (passkey)'],
      ['success', 'password', 'Sign-in (password)'],
    ]);
    // Without a tab, the refused attempt is there, as a refusal by an unknown caller.
    const all = sessionEntries(await history(cookie)).filter((e) => e.action === 'authenticate');
    expect(all).toEqual([
      { action: 'authenticate', outcome: 'success', method: 'passkey', label: 'Connexion (clé d’accès)' },
      {
        action: 'authenticate',
        outcome: 'denied',
        method: undefined,
        label: 'Tentative de connexion refusée',
      },
      { action: 'authenticate', outcome: 'success', method: 'password', label: 'Connexion (mot de passe)' },
    ]);
  });
});
