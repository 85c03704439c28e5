import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relyingParty, startSession } from '../../src/modules/identity/index.ts';
import {
  softAuthenticator,
  type SoftAuthenticator,
} from '../../src/modules/identity/passkey.test-support.ts';
import type { fixedClock } from '../../src/platform/clock.ts';
import { createTestRuntime, rawInject, seedPatient, type TestRuntime } from '../harness.ts';
import { signedInPatient, type ApiPatient } from './support.ts';

/** Passkeys over HTTP, with a software authenticator answering the real ceremonies. */

const START = new Date('2026-12-01T09:00:00Z');
let rt: TestRuntime;
let clock: ReturnType<typeof fixedClock>;
let rp: { rpID: string; origin: string };

beforeAll(async () => {
  rt = await createTestRuntime({ clock: START });
  clock = rt.clock as ReturnType<typeof fixedClock>;
  rp = relyingParty(rt.config);
});
afterAll(async () => {
  await rt?.close();
});

async function registrationOptions(cookie: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const res = await rt.app.inject({
    method: 'POST',
    url: '/api/passkeys/registration/options',
    headers: { cookie },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function register(who: ApiPatient, name?: string): Promise<{ auth: SoftAuthenticator; id: string }> {
  const auth = softAuthenticator(rp);
  const options = await registrationOptions(who.cookie);
  const res = await rt.app.inject({
    method: 'POST',
    url: '/api/passkeys/registration',
    headers: { cookie: who.cookie },
    payload: { credential: auth.create(options), ...(name ? { name } : {}) },
  });
  expect(res.statusCode, res.body).toBe(201);
  return { auth, id: res.json<{ passkey: { id: string } }>().passkey.id };
}

async function signInOptions() {
  const res = await rt.app.inject({ method: 'POST', url: '/api/passkeys/authentication/options' });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<PublicKeyCredentialRequestOptionsJSON>();
}

function signIn(credential: unknown) {
  return rt.app.inject({ method: 'POST', url: '/api/passkeys/authentication', payload: { credential } });
}

async function deniedSince(mark: Date, patientId: string | null) {
  let q = rt.ctx.rootDb
    .selectFrom('audit_events')
    .selectAll()
    .where('outcome', '=', 'denied')
    .where('recorded_at', '>=', mark)
    .orderBy('seq');
  q = patientId === null ? q.where('patient_id', 'is', null) : q.where('patient_id', '=', patientId);
  return q.execute();
}

describe('registration options', () => {
  it('ask for a resident key and user verification, name the person opaquely, exclude known passkeys', async () => {
    const who = await signedInPatient(rt);
    const options = await registrationOptions(who.cookie);
    expect(options.rp).toEqual({ name: 'Carnet', id: rp.rpID });
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: 'required',
      userVerification: 'required',
    });
    expect(options.attestation).toBe('none');
    expect(options.user.name).toBe(who.login);
    expect(options.user.displayName).toBe('Camille Test');
    // The user handle is not the person's id (nor anything personal), but it is stable.
    expect(Buffer.from(options.user.id, 'base64url').toString('hex')).not.toContain(
      who.patient.id.replaceAll('-', ''),
    );
    expect((await registrationOptions(who.cookie)).user.id).toBe(options.user.id);
    expect(options.excludeCredentials).toEqual([]);
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const { auth } = await register(who);
    expect((await registrationOptions(who.cookie)).excludeCredentials).toEqual([
      { id: auth.credentialId, type: 'public-key', transports: ['internal'] },
    ]);
  });

  it('need a session (401, audited)', async () => {
    const mark = clock.now();
    const res = await rt.app.inject({ method: 'POST', url: '/api/passkeys/registration/options' });
    expect(res.statusCode).toBe(401);
    expect(await deniedSince(mark, null)).toHaveLength(1);
  });
});

describe('registration, sign-in, list', () => {
  it('a registered passkey signs its owner in, moves the counter, and shows in the list', async () => {
    const who = await signedInPatient(rt);
    const { auth, id } = await register(who, '  Mon   téléphone ');
    const list = await rt.app.inject({
      method: 'GET',
      url: '/api/passkeys',
      headers: { cookie: who.cookie },
    });
    expect(list.json()).toEqual({
      items: [
        { id, name: 'Mon téléphone', createdAt: START.toISOString(), lastUsedAt: null, backedUp: false },
      ],
    });

    const options = await signInOptions();
    expect(options.allowCredentials ?? []).toEqual([]);
    expect(options.userVerification).toBe('required');
    expect(options.rpId).toBe(rp.rpID);
    clock.advance(60_000);
    const res = await signIn(auth.get(options));
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ patientId: string; expiresAt: string; csrfToken: string }>();
    expect(body.patientId).toBe(who.patient.id);
    const cookie = res.cookies.find((c) => c.name === 'carnet_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const me = await rt.app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { cookie: `carnet_session=${cookie?.value}` },
    });
    expect(me.statusCode).toBe(200);
    expect(me.json<{ id: string }>().id).toBe(who.patient.id);

    const session = await rt.ctx.rootDb
      .selectFrom('sessions')
      .select(['auth_method', 'state'])
      .where('patient_id', '=', who.patient.id)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(session).toEqual({ auth_method: 'passkey', state: 'active' });
    const stored = await rt.ctx.rootDb
      .selectFrom('webauthn_credentials')
      .select(['counter', 'last_used_at'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(Number(stored.counter)).toBe(1);
    expect(new Date(stored.last_used_at ?? 0).toISOString()).toBe(clock.now().toISOString());

    const events = await rt.ctx.rootDb
      .selectFrom('audit_events')
      .select(['action', 'entity_type', 'outcome', 'actor_kind', 'details'])
      .where('patient_id', '=', who.patient.id)
      .where('entity_type', 'in', ['Passkey', 'Session'])
      .orderBy('seq')
      .execute();
    const success = { outcome: 'success', actor_kind: 'patient' };
    // The password sign-in of signedInPatient, the registration, then the passkey sign-in.
    expect(events).toEqual([
      { action: 'authenticate', entity_type: 'Session', ...success, details: { method: 'password' } },
      { action: 'create', entity_type: 'Passkey', ...success, details: expect.any(Object) },
      {
        action: 'authenticate',
        entity_type: 'Session',
        ...success,
        details: { method: 'passkey', credential: 'passkey', passkeyId: id },
      },
    ]);
  });

  it('a passkey that does not count (synced) keeps signing in with counter 0', async () => {
    const who = await signedInPatient(rt);
    const { auth } = await register(who);
    auth.counts = false;
    for (let i = 0; i < 2; i++) expect((await signIn(auth.get(await signInOptions()))).statusCode).toBe(200);
  });

  it('refuses a passkey created without user verification, and one registered twice', async () => {
    const who = await signedInPatient(rt);
    const auth = softAuthenticator(rp);
    const noUv = await rt.app.inject({
      method: 'POST',
      url: '/api/passkeys/registration',
      headers: { cookie: who.cookie },
      payload: { credential: auth.create(await registrationOptions(who.cookie), { userVerified: false }) },
    });
    expect(noUv.statusCode, noUv.body).toBe(400);
    const other = await signedInPatient(rt);
    const { auth: taken } = await register(other);
    const twice = await rt.app.inject({
      method: 'POST',
      url: '/api/passkeys/registration',
      headers: { cookie: who.cookie },
      payload: { credential: taken.create(await registrationOptions(who.cookie)) },
    });
    expect(twice.statusCode, twice.body).toBe(409);
  });
});

describe('challenges', () => {
  it('are single use: a replayed assertion or registration is refused', async () => {
    const who = await signedInPatient(rt);
    const auth = softAuthenticator(rp);
    const credential = auth.create(await registrationOptions(who.cookie));
    const post = () =>
      rt.app.inject({
        method: 'POST',
        url: '/api/passkeys/registration',
        headers: { cookie: who.cookie },
        payload: { credential },
      });
    expect((await post()).statusCode).toBe(201);
    const again = await post();
    expect(again.statusCode).toBe(400);
    expect(again.json<{ error: { message: string } }>().error.message).toMatch(/already used/);

    const assertion = auth.get(await signInOptions());
    expect((await signIn(assertion)).statusCode).toBe(200);
    const mark = clock.now();
    expect((await signIn(assertion)).statusCode).toBe(401);
    expect((await deniedSince(mark, null)).map((e) => e.reason)).toEqual([
      'unknown, expired or used challenge',
    ]);
  });

  it('expire after five minutes', async () => {
    const who = await signedInPatient(rt);
    const { auth } = await register(who);
    const options = await signInOptions();
    clock.advance(5 * 60_000 + 1000);
    expect((await signIn(auth.get(options))).statusCode).toBe(401);

    const creation = await registrationOptions(who.cookie);
    clock.advance(5 * 60_000 + 1000);
    const late = await rt.app.inject({
      method: 'POST',
      url: '/api/passkeys/registration',
      headers: { cookie: who.cookie },
      payload: { credential: softAuthenticator(rp).create(creation) },
    });
    expect(late.statusCode).toBe(400);
    // Still fine within the five minutes.
    const fresh = await signInOptions();
    clock.advance(4 * 60_000);
    expect((await signIn(auth.get(fresh))).statusCode).toBe(200);
  });

  it("are bound to the person (and session) they were issued to: B cannot answer A's", async () => {
    const a = await signedInPatient(rt);
    const b = await signedInPatient(rt);
    const forA = await registrationOptions(a.cookie);
    const res = await rt.app.inject({
      method: 'POST',
      url: '/api/passkeys/registration',
      headers: { cookie: b.cookie },
      payload: { credential: softAuthenticator(rp).create(forA) },
    });
    expect(res.statusCode).toBe(400);
    // A sign-in challenge is no registration challenge.
    const wrongKind = await rt.app.inject({
      method: 'POST',
      url: '/api/passkeys/registration',
      headers: { cookie: a.cookie },
      payload: {
        credential: softAuthenticator(rp).create({ ...forA, challenge: (await signInOptions()).challenge }),
      },
    });
    expect(wrongKind.statusCode).toBe(400);
  });
});

describe('refusals', () => {
  it('refuses another origin, on registration and on sign-in', async () => {
    const who = await signedInPatient(rt);
    const evil = await rt.app.inject({
      method: 'POST',
      url: '/api/passkeys/registration',
      headers: { cookie: who.cookie },
      payload: {
        credential: softAuthenticator(rp).create(await registrationOptions(who.cookie), {
          origin: 'https://carnet.example.evil',
        }),
      },
    });
    expect(evil.statusCode).toBe(400);
    expect(evil.json<{ error: { message: string } }>().error.message).toMatch(/origin/i);
    const { auth } = await register(who);
    const mark = clock.now();
    const res = await signIn(auth.get(await signInOptions(), { origin: 'https://carnet.example.evil' }));
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: { code: 'unauthenticated', message: 'Passkey sign-in failed' } });
    expect((await deniedSince(mark, who.patient.id))[0]?.reason).toMatch(/origin/i);
    // Another RP ID, a missing user verification, another person's user handle: refused too.
    expect((await signIn(auth.get(await signInOptions(), { rpID: 'evil.example' }))).statusCode).toBe(401);
    expect((await signIn(auth.get(await signInOptions(), { userVerified: false }))).statusCode).toBe(401);
    const other = await registrationOptions((await signedInPatient(rt)).cookie);
    expect((await signIn(auth.get(await signInOptions(), { userHandle: other.user.id }))).statusCode).toBe(
      401,
    );
  });

  it('refuses a revoked passkey (revocation audited, the refusal on the owner’s trail)', async () => {
    const who = await signedInPatient(rt);
    const { auth, id } = await register(who);
    const del = await rt.app.inject({
      method: 'DELETE',
      url: `/api/passkeys/${id}`,
      headers: { cookie: who.cookie },
    });
    expect(del.statusCode).toBe(204);
    const list = await rt.app.inject({
      method: 'GET',
      url: '/api/passkeys',
      headers: { cookie: who.cookie },
    });
    expect(list.json()).toEqual({ items: [] });
    const mark = clock.now();
    expect((await signIn(auth.get(await signInOptions()))).statusCode).toBe(401);
    expect((await deniedSince(mark, who.patient.id)).map((e) => e.reason)).toEqual(['revoked passkey']);
    const revoked = await rt.ctx.rootDb
      .selectFrom('audit_events')
      .select(['action', 'outcome'])
      .where('patient_id', '=', who.patient.id)
      .where('entity_type', '=', 'Passkey')
      .where('entity_id', '=', id)
      .orderBy('seq')
      .execute();
    expect(revoked).toEqual([
      { action: 'create', outcome: 'success' },
      { action: 'delete', outcome: 'success' },
    ]);
    // Revoked twice: nothing left to revoke.
    expect(
      (await rt.app.inject({ method: 'DELETE', url: `/api/passkeys/${id}`, headers: { cookie: who.cookie } }))
        .statusCode,
    ).toBe(404);
  });

  it('refuses a counter that goes backwards (a cloned authenticator)', async () => {
    const who = await signedInPatient(rt);
    const { auth } = await register(who);
    auth.counter = 10;
    expect((await signIn(auth.get(await signInOptions()))).statusCode).toBe(200);
    auth.counter = 5;
    expect((await signIn(auth.get(await signInOptions()))).statusCode).toBe(401);
    auth.counter = 11; // reports 12: forwards again (11 was the last seen)
    expect((await signIn(auth.get(await signInOptions()))).statusCode).toBe(200);
  });

  it('refuses a space that is not open, with the same answer', async () => {
    const who = await signedInPatient(rt);
    const { auth } = await register(who);
    for (const status of ['suspended', 'closed'] as const) {
      await rt.ctx.rootDb
        .updateTable('patients')
        .set({ account_status: status })
        .where('id', '=', who.patient.id)
        .execute();
      const res = await signIn(auth.get(await signInOptions()));
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: { code: 'unauthenticated', message: 'Passkey sign-in failed' } });
    }
    await rt.ctx.rootDb
      .updateTable('patients')
      .set({ account_status: 'open' })
      .where('id', '=', who.patient.id)
      .execute();
    expect((await signIn(auth.get(await signInOptions()))).statusCode).toBe(200);
  });

  it('refuses an unknown passkey and garbage the same way', async () => {
    const stranger = softAuthenticator(rp);
    stranger.create(await registrationOptions((await signedInPatient(rt)).cookie));
    expect((await signIn(stranger.get(await signInOptions()))).statusCode).toBe(401);
    const garbage = await signIn({
      id: 'AAAA',
      rawId: 'AAAA',
      type: 'public-key',
      clientExtensionResults: {},
      response: { clientDataJSON: 'bm90IGpzb24', authenticatorData: 'AAAA', signature: 'AAAA' },
    });
    expect(garbage.statusCode).toBe(401);
    const malformed = await signIn({ id: 'not base64url!' });
    expect(malformed.statusCode).toBe(400);
  });
});

describe("another person's passkey", () => {
  it('cannot be renamed or revoked (404, denied on the trail), and stays intact', async () => {
    const a = await signedInPatient(rt);
    const b = await signedInPatient(rt);
    const { auth, id } = await register(a, 'Clé de A');
    const mark = clock.now();
    const rename = await rt.app.inject({
      method: 'PATCH',
      url: `/api/passkeys/${id}`,
      headers: { cookie: b.cookie },
      payload: { name: 'pris' },
    });
    expect(rename.statusCode).toBe(404);
    const del = await rt.app.inject({
      method: 'DELETE',
      url: `/api/passkeys/${id}`,
      headers: { cookie: b.cookie },
    });
    expect(del.statusCode).toBe(404);
    // Recorded on A's trail (B's own history never hands A's passkey id back), naming B.
    expect(await deniedSince(mark, b.patient.id)).toEqual([]);
    expect((await deniedSince(mark, a.patient.id)).map((e) => [e.action, e.actor_id, e.entity_id])).toEqual([
      ['update', b.patient.id, id],
      ['delete', b.patient.id, id],
    ]);
    const list = await rt.app.inject({ method: 'GET', url: '/api/passkeys', headers: { cookie: a.cookie } });
    expect(list.json<{ items: Array<{ name: string }> }>().items.map((p) => p.name)).toEqual(['Clé de A']);
    expect((await signIn(auth.get(await signInOptions()))).statusCode).toBe(200);
    const own = await rt.app.inject({
      method: 'PATCH',
      url: `/api/passkeys/${id}`,
      headers: { cookie: a.cookie },
      payload: { name: 'Ordinateur' },
    });
    expect(own.statusCode).toBe(200);
    expect(own.json<{ name: string }>().name).toBe('Ordinateur');
  });

  it('state changes need the CSRF token', async () => {
    const a = await signedInPatient(rt);
    const { id } = await register(a);
    const res = await rawInject(rt.app)({
      method: 'DELETE',
      url: `/api/passkeys/${id}`,
      headers: { cookie: a.cookie },
    });
    expect(res.statusCode).toBe(403);
  });
});

describe('activation with a passkey (instead of a password)', () => {
  it('completes the enrolment: the space is activated and a fresh session replaces the enrolment one', async () => {
    const patient = await seedPatient(rt.ctx);
    await rt.ctx.rootDb
      .updateTable('patients')
      .set({ account_status: 'pending' })
      .where('id', '=', patient.id)
      .execute();
    const enrolment = await startSession(rt.ctx, rt.ctx.rootDb, patient.id, {
      authMethod: 'provisional-code',
      state: 'enrolment',
      ttlMinutes: 30,
    });
    const cookie = `carnet_session=${enrolment.token}`;
    // The enrolment session signs nobody in…
    expect(
      (await rt.app.inject({ method: 'GET', url: '/api/passkeys', headers: { cookie } })).statusCode,
    ).toBe(401);
    // …but may add a passkey.
    const auth = softAuthenticator(rp);
    const options = await registrationOptions(cookie);
    expect(options.user.name).toBe('Camille Test');
    const res = await rt.app.inject({
      method: 'POST',
      url: '/api/passkeys/registration',
      headers: { cookie },
      payload: { credential: auth.create(options) },
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json<{ session: { patientId: string; csrfToken: string } }>();
    expect(body.session.patientId).toBe(patient.id);
    const fresh = res.cookies.find((c) => c.name === 'carnet_session')?.value;
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(enrolment.token);
    const me = await rt.app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { cookie: `carnet_session=${fresh}` },
    });
    expect(me.statusCode).toBe(200);
    // The activation token is spent.
    expect((await rt.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).statusCode).toBe(
      401,
    );
    const row = await rt.ctx.rootDb
      .selectFrom('patients')
      .select(['account_status', 'activated_at'])
      .where('id', '=', patient.id)
      .executeTakeFirstOrThrow();
    expect(row.account_status).toBe('open');
    expect(row.activated_at).not.toBeNull();
    // And the passkey signs in from now on.
    expect((await signIn(auth.get(await signInOptions()))).statusCode).toBe(200);
  });
});
