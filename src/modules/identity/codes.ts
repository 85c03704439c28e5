import { randomInt, timingSafeEqual } from 'node:crypto';
import type { Ctx } from '../../platform/context.ts';
import { deriveKey, keyedHash } from '../../platform/crypto.ts';
import type { Queryable } from '../../platform/db/database.ts';
import { uuidv7 } from '../../platform/ids.ts';
import * as repo from './codes.repository.ts';

/**
 * Provisional codes (DOMAIN §2): single use, re-issuable (a new code revokes the previous ones),
 * kept only as a keyed hash (HMAC-SHA-256 under a key derived from the master key), so a copy of
 * the database does not yield usable codes. 16 characters from an alphabet without look-alikes
 * (80 bits), printed in groups of four: `7KQM-W3XD-PA9F-C2HT`.
 */

const ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ'.split('');
// 30 symbols: log2(30^16) ≈ 78.5 bits.
const LENGTH = 16;

/** How long a provisional code stays valid once issued. */
export const PROVISIONAL_CODE_DAYS = 365;

export function generateCode(): string {
  let raw = '';
  for (let i = 0; i < LENGTH; i++) raw += ALPHABET[randomInt(ALPHABET.length)];
  return raw.replace(/(.{4})(?=.)/g, '$1-');
}

/** Case, spaces and dashes do not matter. */
export function normalizeCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '');
}

export function codeHash(ctx: Pick<Ctx, 'masterKey'>, patientId: string, code: string): Buffer {
  return keyedHash(deriveKey(ctx.masterKey, 'provisional-code'), `${patientId}:${normalizeCode(code)}`);
}

/**
 * Issues a new code for the person, revoking any live one, in `db` (the caller's transaction).
 * Returns the code in clear: the caller hands it to a notice and forgets it.
 */
export async function issueProvisionalCode(
  ctx: Pick<Ctx, 'masterKey' | 'clock'>,
  db: Queryable,
  patientId: string,
): Promise<{ id: string; code: string; expiresAt: Date }> {
  const now = ctx.clock.now();
  await repo.revokeLiveCodes(db, patientId, now);
  const code = generateCode();
  const id = uuidv7();
  const expiresAt = new Date(now.getTime() + PROVISIONAL_CODE_DAYS * 86_400_000);
  await repo.insertCode(db, {
    patient_id: patientId,
    id,
    code_hash: codeHash(ctx, patientId, code),
    issued_at: now,
    expires_at: expiresAt,
  });
  return { id, code, expiresAt };
}

/** The same as `issueProvisionalCode` for many people at once (population import): rows to insert. */
export function provisionalCodeRows(
  ctx: Pick<Ctx, 'masterKey'>,
  people: ReadonlyArray<{ patientId: string; code: string }>,
  now: Date,
) {
  const expiresAt = new Date(now.getTime() + PROVISIONAL_CODE_DAYS * 86_400_000);
  return people.map((p) => ({
    patient_id: p.patientId,
    id: uuidv7(),
    code_hash: codeHash(ctx, p.patientId, p.code),
    issued_at: now,
    expires_at: expiresAt,
  }));
}

/**
 * Checks a code against the person's live codes; when `consume`, marks it used in `db` (single
 * use: a concurrent second use finds it used). Returns the code's id, or undefined.
 */
export async function checkProvisionalCode(
  ctx: Pick<Ctx, 'masterKey' | 'clock'>,
  db: Queryable,
  patientId: string,
  code: string,
  options: { consume: boolean },
): Promise<string | undefined> {
  const now = ctx.clock.now();
  const given = codeHash(ctx, patientId, code);
  for (const live of await repo.liveCodes(db, patientId, now)) {
    if (live.code_hash.length === given.length && timingSafeEqual(live.code_hash, given)) {
      if (!options.consume) return live.id;
      return (await repo.consumeCode(db, patientId, live.id, now)) ? live.id : undefined;
    }
  }
  return undefined;
}
