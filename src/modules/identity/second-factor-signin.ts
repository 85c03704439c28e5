import { AppError } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { sha256 } from '../../platform/crypto.ts';
import * as identityRepo from './identity.repository.ts';
import { startSession, type SessionMeta } from './identity.service.ts';
import { verifySignInCode } from './second-factor.ts';
import * as sessionRepo from './security.repository.ts';
import { recordSignIn } from './session-audit.ts';
import {
  assertNotThrottled,
  recordThrottleFailure,
  recordThrottleSuccess,
  throttleKeys,
} from './throttle.ts';

/**
 * Second step of a sign-in: the code of the pending ('second_factor') session's person — the
 * e-mail code sent for it, or a TOTP code (each TOTP step is accepted once only). Throttled with
 * the same per-login and per-IP counters as the password step. On success the pending session is
 * revoked and a fresh signed-in session (new token) is returned: the cookie rotates.
 * 401 when the pending session is unknown, expired or spent; 401 for a wrong code too.
 */
export async function completeSecondFactor(
  ctx: Ctx,
  pendingToken: string,
  code: string,
  meta: SessionMeta = {},
): Promise<{ token: string; expiresAt: Date; patientId: string; method: string }> {
  const now = ctx.clock.now();
  const pending = await sessionRepo.findLiveSessionByToken(
    ctx.db,
    sha256(pendingToken),
    'second_factor',
    now,
  );
  if (!pending) throw new AppError('unauthenticated', 'Please sign in again');
  const person = await identityRepo.findPatientById(ctx.db, pending.patient_id);
  if (!person?.login || person.account_status !== 'open')
    throw new AppError('unauthenticated', 'Please sign in again');
  const keys = throttleKeys(ctx, { account: { kind: 'login', value: person.login }, ip: meta.ip });
  await assertNotThrottled(ctx, keys);
  const result = await ctx.rootDb.transaction().execute(async (tx) => {
    const txCtx = { ...ctx, db: tx };
    const method = await verifySignInCode(txCtx, tx, person.id, pending.id, code);
    if (!method) return undefined;
    await sessionRepo.revokeSessionById(tx, person.id, pending.id, now);
    const s = await startSession(txCtx, tx, person.id, { ...meta, authMethod: method });
    await recordSignIn(ctx, tx, {
      patientId: person.id,
      display: `${person.given} ${person.family}`,
      sessionId: s.id,
      method,
    });
    return { token: s.token, expiresAt: s.expiresAt, patientId: person.id, method };
  });
  if (!result) {
    await recordThrottleFailure(ctx, keys);
    throw new AppError('unauthenticated', 'Wrong or expired code');
  }
  await recordThrottleSuccess(ctx, keys);
  return result;
}
