import { AppError } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { deriveKey, keyedHash } from '../../platform/crypto.ts';
import * as repo from './throttle.repository.ts';

/**
 * Throttling of credential checks (sign-in, second factor, activation, password change, passkey and
 * professional sign-in, opposition and re-opening with a code), per account and per IP, in the database (`auth_throttle`) so that a restart does not lift a lock.
 * Keys are keyed hashes (HMAC under a key derived from the master key) of the login, matricule
 * or IP: the table holds no clear identifier, and a key exists for an unknown login exactly as
 * for a known one (a lock reveals nothing about which accounts exist).
 *
 * Policy:
 * - account (a login, a matricule at activation): 5 failures within 15 minutes lock it for
 *   15 minutes; each further lock doubles (30 min, 1 h, …, at most 24 h). A success clears the
 *   counter and the doubling. A lock also refuses the right password (429).
 * - IP: 50 failures within 15 minutes lock the address for 15 minutes. Successes do not clear it
 *   (one valid account must not let an attacker reset the counter).
 * Trade-off: anyone can lock an account for a while by failing on purpose; the lock is short,
 * grows only with repeated attacks, and the person is not locked out of other channels.
 */

export interface ThrottleRule {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly lockMs: number;
  /** Each successive lock multiplies the previous by 2, up to this. */
  readonly maxLockMs: number;
}

export const ACCOUNT_RULE: ThrottleRule = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
  maxLockMs: 24 * 3600_000,
};
export const IP_RULE: ThrottleRule = {
  maxFailures: 50,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
  maxLockMs: 15 * 60_000,
};

export interface ThrottleKey {
  readonly key: Buffer;
  readonly rule: ThrottleRule;
  /** Cleared by a success (accounts), or not (IPs). */
  readonly clearOnSuccess: boolean;
}

/** A 429 that carries when to come back (the error handler, src/http/errors.ts, sends it as Retry-After). */
export class ThrottledError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('rate_limited', 'Too many failed attempts; try again later');
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

function hashKey(ctx: Pick<Ctx, 'masterKey'>, kind: string, value: string): Buffer {
  return keyedHash(deriveKey(ctx.masterKey, 'auth-throttle'), `${kind}:${value}`);
}

/** The keys of one attempt: the account (login or matricule, normalised by the caller) and the IP. */
export function throttleKeys(
  ctx: Pick<Ctx, 'masterKey'>,
  attempt: { account?: { kind: 'login' | 'matricule' | 'patient'; value: string }; ip?: string | undefined },
): ThrottleKey[] {
  const keys: ThrottleKey[] = [];
  if (attempt.account)
    keys.push({
      key: hashKey(ctx, attempt.account.kind, attempt.account.value),
      rule: ACCOUNT_RULE,
      clearOnSuccess: true,
    });
  if (attempt.ip) keys.push({ key: hashKey(ctx, 'ip', attempt.ip), rule: IP_RULE, clearOnSuccess: false });
  return keys;
}

/** Throws ThrottledError (429) when any key is locked now. */
export async function assertNotThrottled(ctx: Ctx, keys: readonly ThrottleKey[]): Promise<void> {
  const now = ctx.clock.now().getTime();
  let until = 0;
  for (const row of await repo.findThrottles(
    ctx.db,
    keys.map((k) => k.key),
  )) {
    const locked = row.locked_until ? new Date(row.locked_until).getTime() : 0;
    if (locked > now) until = Math.max(until, locked);
  }
  if (until > 0) throw new ThrottledError(Math.ceil((until - now) / 1000));
}

/** Counts one failure on every key (locking those that reach their limit), each in its own transaction. */
export async function recordThrottleFailure(ctx: Ctx, keys: readonly ThrottleKey[]): Promise<void> {
  const now = ctx.clock.now();
  for (const k of keys) {
    await ctx.rootDb.transaction().execute(async (trx) => {
      const row = await repo.lockThrottle(trx, k.key, now);
      const windowStart = new Date(row.window_started_at);
      const lockedUntil = row.locked_until ? new Date(row.locked_until) : null;
      const fresh =
        now.getTime() - windowStart.getTime() >= k.rule.windowMs ||
        (lockedUntil !== null &&
          lockedUntil.getTime() <= now.getTime() &&
          row.failures >= k.rule.maxFailures);
      const failures = fresh ? 1 : row.failures + 1;
      let lockCount = row.lock_count;
      let until = lockedUntil;
      if (failures >= k.rule.maxFailures && (until === null || until.getTime() <= now.getTime())) {
        const ms = Math.min(k.rule.lockMs * 2 ** lockCount, k.rule.maxLockMs);
        until = new Date(now.getTime() + ms);
        lockCount++;
      }
      await repo.updateThrottle(trx, k.key, {
        failures,
        window_started_at: fresh ? now : windowStart,
        locked_until: until,
        lock_count: lockCount,
        updated_at: now,
      });
    });
  }
}

/** A success: clears the counters that a success clears (accounts, not IPs). */
export async function recordThrottleSuccess(ctx: Ctx, keys: readonly ThrottleKey[]): Promise<void> {
  for (const k of keys) if (k.clearOnSuccess) await repo.deleteThrottle(ctx.db, k.key);
}

/** Deletes counters idle for a day and no longer locked (a daily job may call it). */
export async function purgeStaleThrottles(ctx: Ctx): Promise<number> {
  const now = ctx.clock.now();
  return repo.purgeThrottles(ctx.db, new Date(now.getTime() - 24 * 3600_000), now);
}
