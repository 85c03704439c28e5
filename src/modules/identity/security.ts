import { AppError, invalid, notFound } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import type { NewAuditEvent } from '../audit/index.ts';
import { recordAuditEvent } from '../audit/index.ts';
import * as identityRepo from './identity.repository.ts';
import { startSession, type SessionMeta } from './identity.service.ts';
import {
  confirmEmailEnrolment,
  confirmTotpEnrolment,
  listSecondFactors,
  removeSecondFactor,
  startEmailEnrolment,
  startTotpEnrolment,
  type OutgoingMail,
  type SecondFactorView,
} from './second-factor.ts';
import { checkPasswordRules, hashPassword, verifyPassword } from './security-password.ts';
import * as repo from './security.repository.ts';
import {
  assertNotThrottled,
  recordThrottleFailure,
  recordThrottleSuccess,
  throttleKeys,
} from './throttle.ts';

/**
 * The security page of a space: signed-in sessions (devices), second factors, password change.
 * Everything acts on the signed-in person's own account only; an id that is not theirs is 404
 * (and audited as denied).
 */

export interface SecurityActor {
  readonly patientId: string;
  readonly sessionId: string;
  readonly display: string;
}

export interface SessionView {
  id: string;
  createdAt: Date;
  lastSeenAt: Date | null;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
  authMethod: string | null;
  current: boolean;
}

function actorOf(a: SecurityActor): NewAuditEvent['actor'] {
  return { kind: 'patient', id: a.patientId, display: a.display, organizationId: null, clientId: null };
}

async function audit(
  ctx: Ctx,
  a: SecurityActor,
  e: {
    action: string;
    type: string;
    id: string | null;
    outcome: 'success' | 'denied';
    details?: Record<string, unknown>;
  },
): Promise<void> {
  await recordAuditEvent(e.outcome === 'denied' ? ctx.rootDb : ctx.db, {
    // A refusal names no record: the id asked for may be anyone's.
    patientId: e.outcome === 'denied' ? null : a.patientId,
    recordedAt: ctx.clock.now(),
    actor: actorOf(a),
    action: e.action,
    entity: { type: e.type, id: e.outcome === 'denied' ? null : e.id },
    outcome: e.outcome,
    basis: e.outcome === 'denied' ? null : 'owner',
    reason: e.outcome === 'denied' ? 'not one of the person’s own' : null,
    requestId: ctx.requestId ?? null,
    details: e.details ?? {},
  });
}

export async function getSecurity(
  ctx: Ctx,
  a: SecurityActor,
): Promise<{ sessions: SessionView[]; secondFactors: SecondFactorView[]; hasPassword: boolean }> {
  const now = ctx.clock.now();
  const person = await identityRepo.findPatientById(ctx.db, a.patientId);
  const sessions = (await repo.listLiveSessions(ctx.db, a.patientId, now)).map((s) => ({
    id: s.id,
    createdAt: new Date(s.created_at),
    lastSeenAt: s.last_seen_at ? new Date(s.last_seen_at) : null,
    expiresAt: new Date(s.expires_at),
    userAgent: s.user_agent,
    ip: s.ip,
    authMethod: s.auth_method,
    current: s.id === a.sessionId,
  }));
  return {
    sessions,
    secondFactors: await listSecondFactors(ctx, a.patientId),
    hasPassword: Boolean(person?.password_hash),
  };
}

/** Revokes one of the person's sessions (404 if not theirs or not live). True when it was the current one. */
export async function revokeOwnSession(
  ctx: Ctx,
  a: SecurityActor,
  id: string,
): Promise<{ current: boolean }> {
  const revoked = await ctx.rootDb.transaction().execute(async (tx) => {
    if (!(await repo.revokeSessionById(tx, a.patientId, id, ctx.clock.now()))) return false;
    await audit({ ...ctx, db: tx }, a, { action: 'revoke', type: 'Session', id, outcome: 'success' });
    return true;
  });
  if (!revoked) {
    await audit(ctx, a, { action: 'revoke', type: 'Session', id, outcome: 'denied' });
    throw notFound('No such session');
  }
  return { current: id === a.sessionId };
}

/** Revokes every other session of the person (every one with `includeCurrent`); returns how many. */
export async function revokeOwnSessions(
  ctx: Ctx,
  a: SecurityActor,
  includeCurrent: boolean,
): Promise<number> {
  return ctx.rootDb.transaction().execute(async (tx) => {
    const n = await repo.revokeSessionsOf(
      tx,
      a.patientId,
      ctx.clock.now(),
      includeCurrent ? undefined : a.sessionId,
    );
    await audit({ ...ctx, db: tx }, a, {
      action: 'revoke',
      type: 'Session',
      id: null,
      outcome: 'success',
      details: { all: true, includeCurrent, count: n },
    });
    return n;
  });
}

/**
 * Removes a second factor (404 if not theirs). Refused (409) for the last one while the person has
 * a password: a password alone is below the "substantial" assurance a health record requires, and
 * the next password sign-in would be refused or unprotected.
 */
export async function removeOwnSecondFactor(ctx: Ctx, a: SecurityActor, id: string): Promise<void> {
  const person = await identityRepo.findPatientById(ctx.db, a.patientId);
  const removed = await ctx.rootDb.transaction().execute(async (tx) => {
    const txCtx = { ...ctx, db: tx };
    const done = await removeSecondFactor(txCtx, tx, {
      patientId: a.patientId,
      id,
      hasPassword: Boolean(person?.password_hash),
    });
    if (done) await audit(txCtx, a, { action: 'delete', type: 'SecondFactor', id, outcome: 'success' });
    return done;
  });
  if (!removed) {
    // Written outside the transaction (on the root connection): a refusal is kept.
    await audit(ctx, a, { action: 'delete', type: 'SecondFactor', id, outcome: 'denied' });
    throw notFound('No such second factor');
  }
}

/** Adds a TOTP factor from the security page (confirmed by `confirmOwnSecondFactor`). */
export async function startOwnTotp(ctx: Ctx, a: SecurityActor) {
  return startTotpEnrolment(ctx, a.patientId);
}

/** Adds an e-mail factor from the security page: returns the mail carrying the confirmation code. */
export async function startOwnEmailFactor(ctx: Ctx, a: SecurityActor, email: string): Promise<OutgoingMail> {
  return startEmailEnrolment(ctx, { patientId: a.patientId, sessionId: a.sessionId, email });
}

/** Confirms a factor being added (400 when the code is wrong; throttled per person and IP). */
export async function confirmOwnSecondFactor(
  ctx: Ctx,
  a: SecurityActor,
  kind: 'totp' | 'email',
  code: string,
  meta: SessionMeta = {},
): Promise<{ id: string }> {
  const keys = throttleKeys(ctx, { account: { kind: 'patient', value: a.patientId }, ip: meta.ip });
  await assertNotThrottled(ctx, keys);
  const id = await ctx.rootDb.transaction().execute(async (tx) => {
    const txCtx = { ...ctx, db: tx };
    const factorId =
      kind === 'totp'
        ? await confirmTotpEnrolment(txCtx, tx, a.patientId, code)
        : await confirmEmailEnrolment(txCtx, tx, a.patientId, a.sessionId, code);
    if (factorId)
      await audit(txCtx, a, {
        action: 'create',
        type: 'SecondFactor',
        id: factorId,
        outcome: 'success',
        details: { kind },
      });
    return factorId;
  });
  if (!id) {
    await recordThrottleFailure(ctx, keys);
    throw invalid('Wrong or expired code', 'code');
  }
  await recordThrottleSuccess(ctx, keys);
  return { id };
}

/**
 * Changes the password: the current one is checked (throttled like a sign-in; 400 field 'current'
 * when wrong), the new one follows the rules. Every other session is revoked and the current one
 * rotated (a fresh token is returned for the cookie).
 */
export async function changePassword(
  ctx: Ctx,
  a: SecurityActor,
  input: { current: string; next: string },
  meta: SessionMeta = {},
): Promise<{ token: string; expiresAt: Date }> {
  const person = await identityRepo.findPatientById(ctx.db, a.patientId);
  if (!person) throw new AppError('unauthenticated', 'Please sign in');
  const keys = throttleKeys(ctx, {
    account: person.login ? { kind: 'login', value: person.login } : { kind: 'patient', value: person.id },
    ip: meta.ip,
  });
  await assertNotThrottled(ctx, keys);
  if (!(await verifyPassword(person.password_hash, input.current))) {
    await recordThrottleFailure(ctx, keys);
    throw invalid('The current password is wrong', 'current');
  }
  checkPasswordRules(input.next, person.login, 'new');
  if (input.next === input.current) throw invalid('The new password must differ from the current one', 'new');
  const hash = await hashPassword(input.next);
  await recordThrottleSuccess(ctx, keys);
  return ctx.rootDb.transaction().execute(async (tx) => {
    const now = ctx.clock.now();
    const current = (await repo.listLiveSessions(tx, a.patientId, now)).find((s) => s.id === a.sessionId);
    await repo.setPasswordHash(tx, a.patientId, hash, now);
    const revoked = await repo.revokeSessionsOf(tx, a.patientId, now, undefined);
    const txCtx = { ...ctx, db: tx };
    const s = await startSession(txCtx, tx, a.patientId, {
      ...meta,
      authMethod: current?.auth_method ?? 'password',
    });
    await audit(txCtx, a, {
      action: 'update',
      type: 'Password',
      id: null,
      outcome: 'success',
      details: { revokedSessions: revoked - 1 },
    });
    return { token: s.token, expiresAt: s.expiresAt };
  });
}
