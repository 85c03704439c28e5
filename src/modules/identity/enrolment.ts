import { timingSafeEqual } from 'node:crypto';
import { AppError, invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { sha256 } from '../../platform/crypto.ts';
import type { Queryable } from '../../platform/db/database.ts';
import type { NewAuditEvent } from '../audit/index.ts';
import { recordAuditEvent } from '../audit/index.ts';
import { checkProvisionalCode } from './codes.ts';
import * as repo from './enrolment.repository.ts';
import { startSession, type SessionMeta } from './identity.service.ts';
import * as identityRepo from './identity.repository.ts';
import * as factorRepo from './second-factor.repository.ts';
import * as sessionRepo from './security.repository.ts';
import {
  confirmEmailEnrolment,
  confirmTotpEnrolment,
  startEmailEnrolment,
  startTotpEnrolment,
  type OutgoingMail,
} from './second-factor.ts';
import { checkPasswordRules, hashPassword } from './security-password.ts';
import {
  assertNotThrottled,
  recordThrottleFailure,
  recordThrottleSuccess,
  throttleKeys,
} from './throttle.ts';
import { uuidv7 } from '../../platform/ids.ts';

/**
 * Activation of a space (DOMAIN §2): provisional code + matricule + health-card serial open a short
 * enrolment session; the person then chooses a login (an e-mail address of their choice) and a
 * password, and enrols a second factor (TOTP or e-mail codes) — or a passkey (passkey.service.ts).
 * Once both are in, the space is activated and a fresh signed-in session replaces the enrolment one.
 */

/** Same answer for every reason (unknown matricule, wrong serial, wrong/used/expired code, state). */
export const ACTIVATION_REFUSED = 'Ces informations ne permettent pas d’activer un espace';
export const ENROLMENT_MINUTES = 30;

export interface Enrolment {
  patientId: string;
  sessionId: string;
}

function normalizeMatricule(m: string): string {
  return m.toUpperCase().replace(/[\s.-]/g, '');
}

function sameSerial(stored: string | null, given: string): boolean {
  const a = sha256((stored ?? '').toUpperCase().replace(/\s/g, ''));
  const b = sha256(given.toUpperCase().replace(/\s/g, ''));
  return stored !== null && timingSafeEqual(a, b);
}

const anonymous: NewAuditEvent['actor'] = {
  kind: 'anonymous',
  id: null,
  display: 'Unauthenticated caller',
  organizationId: null,
  clientId: null,
};

function personActor(patientId: string, display: string): NewAuditEvent['actor'] {
  return { kind: 'patient', id: patientId, display, organizationId: null, clientId: null };
}

/**
 * Checks the activation facts and opens an enrolment session (30 minutes). The provisional code
 * is consumed (single use). Every failure gives the same 401 and is audited ('denied', on the
 * person's record when the matricule names one); 429 once the matricule or the IP is throttled.
 */
export async function startActivation(
  ctx: Ctx,
  input: { code: string; matricule: string; cardSerial: string },
  meta: SessionMeta = {},
): Promise<{ token: string; expiresAt: Date; patientId: string }> {
  const matricule = normalizeMatricule(input.matricule);
  const keys = throttleKeys(ctx, { account: { kind: 'matricule', value: matricule }, ip: meta.ip });
  await assertNotThrottled(ctx, keys);
  const now = ctx.clock.now();
  const outcome = await ctx.rootDb.transaction().execute(async (tx) => {
    const candidates = await repo.findPatientsByMatricule(tx, matricule);
    for (const p of candidates) {
      const eligible =
        sameSerial(p.card_serial, input.cardSerial) &&
        (p.account_status === 'pending' || p.account_status === 'open') &&
        p.activated_at === null;
      if (!eligible) continue;
      const codeId = await checkProvisionalCode(ctx, tx, p.id, input.code, { consume: true });
      if (!codeId) continue;
      const s = await startSession(ctx, tx, p.id, {
        ...meta,
        authMethod: 'provisional-code',
        state: 'enrolment',
        ttlMinutes: ENROLMENT_MINUTES,
      });
      await recordAuditEvent(tx, {
        patientId: p.id,
        recordedAt: now,
        actor: personActor(p.id, `${p.given} ${p.family}`),
        action: 'activation-start',
        entity: { type: 'Account', id: p.id },
        outcome: 'success',
        basis: 'owner',
        reason: null,
        requestId: ctx.requestId ?? null,
        details: { codeId },
      });
      return { ok: true as const, session: s, patientId: p.id };
    }
    // Same work when nobody matches: one code check, so timing does not tell.
    if (candidates.length === 0)
      await checkProvisionalCode(ctx, tx, uuidv7(), input.code, { consume: false });
    return { ok: false as const, patientIds: candidates.map((c) => c.id) };
  });
  if (outcome.ok) {
    await recordThrottleSuccess(ctx, keys);
    return {
      token: outcome.session.token,
      expiresAt: outcome.session.expiresAt,
      patientId: outcome.patientId,
    };
  }
  await recordThrottleFailure(ctx, keys);
  for (const patientId of outcome.patientIds.length ? outcome.patientIds : [null]) {
    await recordAuditEvent(ctx.rootDb, {
      patientId,
      recordedAt: now,
      actor: anonymous,
      action: 'activation-start',
      entity: { type: 'Account', id: patientId },
      outcome: 'denied',
      basis: null,
      reason: 'activation facts refused',
      requestId: ctx.requestId ?? null,
      details: {},
    });
  }
  throw new AppError('unauthenticated', ACTIVATION_REFUSED);
}

/** The enrolment (activation) session behind a session token; 401 if not one. */
export async function resolveEnrolment(ctx: Ctx, sessionToken: string): Promise<Enrolment> {
  const s = await repo.findEnrolmentSession(ctx.db, sha256(sessionToken), ctx.clock.now());
  if (!s) throw new AppError('unauthenticated', 'No activation in progress: start again with your code');
  return { patientId: s.patient_id, sessionId: s.id };
}

/**
 * Credentials complete: sets patients.activated_at (if null), account stays/turns 'open', and turns
 * the enrolment session into an active one (state 'active', auth_method = method). In `db` (a
 * transaction). The login and password chosen in this enrolment, if any, become the person's.
 * 409 when the space left the pending/open states meanwhile, or the login was taken meanwhile.
 */
export async function finishEnrolment(
  ctx: Ctx,
  db: Queryable,
  input: { patientId: string; sessionId: string; method: string },
): Promise<void> {
  const now = ctx.clock.now();
  const person = await repo.findPatientState(db, input.patientId);
  if (!person || (person.account_status !== 'pending' && person.account_status !== 'open'))
    throw new AppError('conflict', 'This space can no longer be activated');
  const creds = await repo.findCredentials(db, input.patientId, input.sessionId);
  if (creds && (await repo.loginTaken(db, creds.login, input.patientId)))
    throw new AppError('conflict', 'This login is already used: choose another one', 'login');
  await repo.activatePatient(
    db,
    input.patientId,
    {
      statusChanged: person.account_status !== 'open',
      ...(creds ? { login: creds.login, passwordHash: creds.password_hash } : {}),
    },
    now,
  );
  await repo.deleteCredentials(db, input.patientId);
  const expiresAt = new Date(now.getTime() + ctx.config.sessionTtlHours * 3600_000);
  if (!(await repo.activateSession(db, input.patientId, input.sessionId, input.method, expiresAt)))
    throw new AppError('unauthenticated', 'No activation in progress: start again with your code');
  await recordAuditEvent(db, {
    patientId: input.patientId,
    recordedAt: now,
    actor: personActor(input.patientId, `${person.given} ${person.family}`),
    action: 'activate',
    entity: { type: 'Account', id: input.patientId },
    outcome: 'success',
    basis: 'owner',
    reason: null,
    requestId: ctx.requestId ?? null,
    details: { method: input.method, previousStatus: person.account_status },
  });
}

export type EnrolmentStep =
  | { complete: false; password: boolean; secondFactor: boolean }
  | { complete: true; session: { token: string; expiresAt: Date; patientId: string } };

/**
 * Completes the enrolment when the password and a confirmed second factor are both in: activates
 * the space, and replaces the enrolment session by a fresh signed-in one (new token).
 */
async function completeIfReady(
  ctx: Ctx,
  tx: Queryable,
  enrolment: Enrolment,
  meta: SessionMeta,
): Promise<EnrolmentStep> {
  const creds = await repo.findCredentials(tx, enrolment.patientId, enrolment.sessionId);
  const factors = await factorRepo.confirmedFactors(tx, enrolment.patientId);
  const factor = factors[factors.length - 1];
  if (!creds || !factor)
    return { complete: false, password: creds !== undefined, secondFactor: factor !== undefined };
  const method = `password+${factor.kind}`;
  const txCtx = { ...ctx, db: tx };
  await finishEnrolment(txCtx, tx, { ...enrolment, method });
  // A new token for the newly signed-in person: the activation session's token never signs in.
  await sessionRepo.revokeSessionById(tx, enrolment.patientId, enrolment.sessionId, ctx.clock.now());
  const s = await startSession(txCtx, tx, enrolment.patientId, { ...meta, authMethod: method });
  return {
    complete: true,
    session: { token: s.token, expiresAt: s.expiresAt, patientId: enrolment.patientId },
  };
}

/** Where the enrolment stands (for the activation pages). */
export async function enrolmentStatus(
  ctx: Ctx,
  enrolment: Enrolment,
): Promise<EnrolmentStep & { complete: false }> {
  const creds = await repo.findCredentials(ctx.db, enrolment.patientId, enrolment.sessionId);
  const factors = await factorRepo.confirmedFactors(ctx.db, enrolment.patientId);
  return { complete: false, password: creds !== undefined, secondFactor: factors.length > 0 };
}

/**
 * The login (an e-mail address the person chooses, unique) and password (rules in
 * security-password.ts), kept with the enrolment until the second factor is in too.
 */
export async function chooseCredentials(
  ctx: Ctx,
  enrolment: Enrolment,
  input: { login: string; password: string },
  meta: SessionMeta = {},
): Promise<EnrolmentStep> {
  const login = input.login.trim().toLowerCase();
  checkPasswordRules(input.password, login);
  if (await repo.loginTaken(ctx.db, login, enrolment.patientId))
    throw new AppError('conflict', 'This login is already used: choose another one', 'login');
  const hash = await hashPassword(input.password);
  return ctx.rootDb.transaction().execute(async (tx) => {
    await repo.saveCredentials(tx, {
      patient_id: enrolment.patientId,
      session_id: enrolment.sessionId,
      login,
      password_hash: hash,
      created_at: ctx.clock.now(),
    });
    return completeIfReady(ctx, tx, enrolment, meta);
  });
}

export async function startEnrolmentTotp(ctx: Ctx, enrolment: Enrolment) {
  return startTotpEnrolment(ctx, enrolment.patientId);
}

export async function startEnrolmentEmail(
  ctx: Ctx,
  enrolment: Enrolment,
  email: string,
): Promise<OutgoingMail> {
  return startEmailEnrolment(ctx, { ...enrolment, email });
}

/**
 * Confirms the second factor being enrolled with a code (throttled per person and IP; 400 when
 * wrong), then completes the enrolment if the password is in too.
 */
export async function confirmEnrolmentFactor(
  ctx: Ctx,
  enrolment: Enrolment,
  kind: 'totp' | 'email',
  code: string,
  meta: SessionMeta = {},
): Promise<EnrolmentStep> {
  const keys = throttleKeys(ctx, { account: { kind: 'patient', value: enrolment.patientId }, ip: meta.ip });
  await assertNotThrottled(ctx, keys);
  const person = await identityRepo.findPatientById(ctx.db, enrolment.patientId);
  if (!person) throw new AppError('unauthenticated', 'No activation in progress: start again with your code');
  const result = await ctx.rootDb.transaction().execute(async (tx) => {
    const txCtx = { ...ctx, db: tx };
    const factorId =
      kind === 'totp'
        ? await confirmTotpEnrolment(txCtx, tx, enrolment.patientId, code)
        : await confirmEmailEnrolment(txCtx, tx, enrolment.patientId, enrolment.sessionId, code);
    if (!factorId) return undefined;
    await recordAuditEvent(tx, {
      patientId: enrolment.patientId,
      recordedAt: ctx.clock.now(),
      actor: personActor(enrolment.patientId, `${person.given} ${person.family}`),
      action: 'create',
      entity: { type: 'SecondFactor', id: factorId },
      outcome: 'success',
      basis: 'owner',
      reason: null,
      requestId: ctx.requestId ?? null,
      details: { kind, enrolment: true },
    });
    return completeIfReady(ctx, tx, enrolment, meta);
  });
  if (!result) {
    await recordThrottleFailure(ctx, keys);
    throw invalid('Wrong or expired code', 'code');
  }
  await recordThrottleSuccess(ctx, keys);
  return result;
}
