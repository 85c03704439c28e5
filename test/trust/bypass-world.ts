import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { uuidv7 } from '../../src/platform/ids.ts';
import { makePdf } from '../api/files.ts';
import { signedInPatient, uploaded, type ApiPatient } from '../api/support.ts';
import { createTestRuntime, sessionCookieFor, type TestRuntime } from '../harness.ts';
import { PASSWORD } from '../api/support.ts';
import { seedProfileOfA } from './profile-world.ts';
import {
  addRule,
  auditMark,
  auditSince,
  professional,
  publish,
  secretTitle,
  setMasked,
  shareWith,
  START,
  TYPES,
  type AuditRow,
  type Pro,
} from './support.ts';

/**
 * The world of the bypass suites: patient A's record — documents, rules, audit events, a
 * notification — with secrets that must never appear in anyone else's answers, and the actors who
 * try: anonymous, patient B, a professional with no relationship, a professional A blocked, and a
 * professional in B's care team. A and A's GP are the controls that prove the ids are live.
 */

export type ActorName = 'anonymous' | 'patientB' | 'stranger' | 'blocked' | 'careOfB';
export const ATTACKERS: readonly ActorName[] = ['anonymous', 'patientB', 'stranger', 'blocked', 'careOfB'];

export interface World {
  rt: TestRuntime;
  a: ApiPatient;
  b: ApiPatient;
  gpOfA: Pro;
  pros: Record<'stranger' | 'blocked' | 'careOfB' | 'spare', Pro>;
  ids: {
    docs: { upload: string; consult: string; masked: string };
    rules: { careOfBlocked: string; block: string; gp: string; share: string };
    events: string[];
    notification: string;
    bDoc: string;
    /** A's passkey (a stored credential row; the ceremony is tested in test/api/passkeys.test.ts). */
    passkey: string;
  };
  /** Strings of A's record no one else may ever receive. */
  secrets: string[];
}

export async function createWorld(options: { clock?: Date } = {}): Promise<World> {
  const rt = await createTestRuntime({
    clock: options.clock ?? START,
    // Same routes on PGlite and PostgreSQL (the /dev/mail page exists in demo mode only).
    env: { CARNET_DEMO: 'true', CARNET_SESSION_TTL_HOURS: '720' },
  });
  const [a, b] = [await signedInPatient(rt), await signedInPatient(rt)];
  const gpOfA = await professional(rt, '10');
  const pros = {
    stranger: await professional(rt, '10'),
    blocked: await professional(rt, '10'),
    careOfB: await professional(rt, '10'),
    spare: await professional(rt, '60'),
  };
  const titles = {
    upload: secretTitle('SECRET-A upload'),
    consult: secretTitle('SECRET-A consult'),
    masked: secretTitle('SECRET-A masked'),
  };
  const docs = {
    upload: (await uploaded(rt.app, a.cookie, { content: makePdf(), fields: { title: titles.upload } })).id,
    consult: await publish(rt, gpOfA, a.patient, { type: TYPES.consult, title: titles.consult }),
    masked: await publish(rt, gpOfA, a.patient, { type: TYPES.lab, title: titles.masked }),
  };
  await setMasked(rt, a.cookie, docs.masked, true);
  const rules = {
    gp: await addRule(rt, a.cookie, { kind: 'role', rpps: gpOfA.rpps, role: 'gp' }),
    careOfBlocked: await addRule(rt, a.cookie, { kind: 'care_team', rpps: pros.blocked.rpps }),
    block: await addRule(rt, a.cookie, { kind: 'block', rpps: pros.blocked.rpps }),
    share: await shareWith(
      rt,
      a.cookie,
      docs.consult,
      pros.spare.rpps,
      new Date(START.getTime() + 86_400_000 * 300),
    ),
  };
  await addRule(rt, b.cookie, { kind: 'role', rpps: pros.careOfB.rpps, role: 'gp' });
  const bDoc = await publish(rt, pros.careOfB, b.patient, { type: TYPES.consult, title: 'B consult' });
  const notification = uuidv7();
  const notificationTitle = secretTitle('SECRET-A notification');
  await rt.ctx.rootDb
    .insertInto('notification_inbox')
    .values({
      patient_id: a.patient.id,
      id: notification,
      type: 'document_added',
      title: notificationTitle,
      body: `${notificationTitle} body`,
      created_at: rt.clock.now(),
      read_at: null,
    })
    .execute();
  const passkey = uuidv7();
  const passkeyName = secretTitle('SECRET-A passkey');
  await rt.ctx.rootDb
    .insertInto('webauthn_credentials')
    .values({
      patient_id: a.patient.id,
      id: passkey,
      credential_id: `cred-${passkey}`,
      public_key: Buffer.from('not a real key'),
      name: passkeyName,
      aaguid: '00000000-0000-0000-0000-000000000000',
      created_at: rt.clock.now(),
    })
    .execute();
  // A's trail: the GP's reads.
  for (const id of Object.values(docs)) {
    await rt.app.inject({
      method: 'GET',
      url: `/fhir/R4/DocumentReference/${id}`,
      headers: { authorization: `Bearer ${gpOfA.token}` },
    });
  }
  const events = (
    await rt.ctx.rootDb
      .selectFrom('audit_events')
      .select('id')
      .where('patient_id', '=', a.patient.id)
      .orderBy('seq', 'desc')
      .limit(3)
      .execute()
  ).map((r) => r.id);
  return {
    rt,
    a,
    b,
    gpOfA,
    pros,
    ids: { docs, rules, events, notification, bDoc, passkey },
    secrets: [
      ...Object.values(docs),
      ...Object.values(titles),
      ...Object.values(rules),
      ...events,
      notification,
      notificationTitle,
      passkey,
      passkeyName,
      ...(await seedProfileOfA(rt, a)),
      a.patient.ins.matricule,
      a.patient.id,
      a.login,
    ],
  };
}

/** The credentials an actor sends; patients send their session cookie, professionals a bearer token. */
export function credentialsOf(w: World, actor: ActorName | 'patientA' | 'gpOfA'): Record<string, string> {
  switch (actor) {
    case 'anonymous':
      return {};
    case 'patientA':
      return { cookie: w.a.cookie };
    case 'patientB':
      return { cookie: w.b.cookie };
    case 'gpOfA':
      return { authorization: `Bearer ${w.gpOfA.token}` };
    default:
      return { authorization: `Bearer ${w.pros[actor].token}` };
  }
}

export function credentialKind(actor: ActorName | 'patientA' | 'gpOfA'): 'none' | 'session' | 'bearer' {
  return actor === 'anonymous' ? 'none' : actor === 'patientA' || actor === 'patientB' ? 'session' : 'bearer';
}

/** Signs B in again (after a sign-out probe). */
export async function renewSessionOfB(w: World): Promise<void> {
  w.b.cookie = await sessionCookieFor(w.rt.app, w.b.login, PASSWORD);
}

/**
 * Asserts that no secret of A that the request did not itself carry is in the answer (body or
 * headers).
 */
export function expectNoLeak(w: World, res: LightMyRequestResponse, carried: string, label: string): void {
  const text = `${res.body}\n${JSON.stringify(res.headers)}`;
  for (const secret of w.secrets) {
    if (carried.includes(secret)) continue;
    expect(text.includes(secret), `${label}: the answer contains ${secret}\n${text.slice(0, 600)}`).toBe(
      false,
    );
  }
}

/** Runs one request and returns it with the audit rows it produced. */
export async function attempt(
  w: World,
  request: { method: string; url: string; headers?: Record<string, string>; payload?: string | Buffer },
): Promise<{ res: LightMyRequestResponse; rows: AuditRow[] }> {
  const mark = await auditMark(w.rt);
  const res = await w.rt.app.inject({
    method: request.method as 'GET',
    url: request.url,
    headers: request.headers ?? {},
    ...(request.payload === undefined ? {} : { payload: request.payload }),
  });
  return { res, rows: await auditSince(w.rt, mark) };
}
