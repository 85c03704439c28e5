import { AppError } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import {
  assertNotThrottled,
  recordThrottleFailure,
  recordThrottleSuccess,
  throttleKeys,
} from '../identity/index.ts';

/** Where an anonymous attempt comes from. */
export interface AttemptMeta {
  readonly ip?: string | undefined;
}

/**
 * Runs an anonymous check of a provisional code or an opposition reference under identity's
 * throttle, keyed like activation: per matricule (the same counter as activation, since the same
 * code is at stake) and per IP. A locked key answers 429 before anything is looked up, so a
 * throttled unknown matricule answers exactly like a known one. A mismatch (400 or 404) counts as
 * a failure; a success clears the matricule's counter (never the IP's); other refusals (a window
 * that closed, a space closed after a suspension: the right code, too late) count for nothing.
 */
export async function throttledByMatricule<T>(
  ctx: Ctx,
  matricule: string,
  meta: AttemptMeta,
  attempt: () => Promise<T>,
): Promise<T> {
  // Normalised as activation does (enrolment.ts), so that both share one counter per matricule.
  const value = matricule.toUpperCase().replace(/[\s.-]/g, '');
  const keys = throttleKeys(ctx, { account: { kind: 'matricule', value }, ip: meta.ip });
  await assertNotThrottled(ctx, keys);
  let result: T;
  try {
    result = await attempt();
  } catch (err) {
    if (err instanceof AppError && (err.code === 'invalid_input' || err.code === 'not_found'))
      await recordThrottleFailure(ctx, keys);
    throw err;
  }
  await recordThrottleSuccess(ctx, keys);
  return result;
}
