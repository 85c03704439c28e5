import { randomInt, timingSafeEqual } from 'node:crypto';
import { AppError, invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { deriveKey, keyedHash, openSecret, sealSecret } from '../../platform/crypto.ts';
import type { Queryable } from '../../platform/db/database.ts';
import { uuidv7 } from '../../platform/ids.ts';
import * as identityRepo from './identity.repository.ts';
import * as repo from './second-factor.repository.ts';
import { base32Decode, newTotpSecret, otpauthUri, verifyTotp } from './totp.ts';

/**
 * Second factors (DOMAIN §1: password + one-time code by e-mail, or TOTP). A factor is kept once
 * the person typed a first good code (confirmed). TOTP seeds are sealed under a key derived from
 * the master key; e-mail codes are six digits, kept as keyed hashes, valid 10 minutes, at most
 * 5 attempts, bound to the session that asked for them.
 */

export type SecondFactorKind = 'totp' | 'email';

export const EMAIL_CODE_MINUTES = 10;
export const EMAIL_CODE_MAX_ATTEMPTS = 5;
const TOTP_PURPOSE = 'totp';

/** A mail to send once the transaction committed (through notifications' sendAccountMail). */
export interface OutgoingMail {
  readonly id: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly at: Date;
}

export interface SecondFactorView {
  id: string;
  kind: SecondFactorKind;
  /** For e-mail codes, the address with most of its local part hidden. */
  label: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** `c•••••e@example.org`: enough to recognise one's address, not to learn someone else's. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '•••';
  const local = email.slice(0, at);
  const shown =
    local.length <= 2 ? `${local[0] ?? ''}•` : `${local[0] ?? ''}•••${local[local.length - 1] ?? ''}`;
  return `${shown}${email.slice(at)}`;
}

function sealAad(patientId: string, id: string): string {
  return `${patientId}/${id}`;
}

function codeHash(ctx: Pick<Ctx, 'masterKey'>, id: string, code: string): Buffer {
  return keyedHash(deriveKey(ctx.masterKey, 'one-time-code'), `${id}:${code.replace(/\s/g, '')}`);
}

/** Starts a TOTP enrolment: a new seed (replacing one not yet confirmed), for the authenticator app. */
export async function startTotpEnrolment(
  ctx: Ctx,
  patientId: string,
): Promise<{ id: string; secret: string; otpauthUri: string }> {
  const person = await identityRepo.findPatientById(ctx.db, patientId);
  if (!person) throw new AppError('unauthenticated', 'Please sign in');
  const now = ctx.clock.now();
  const id = uuidv7();
  const secret = newTotpSecret();
  await ctx.rootDb.transaction().execute(async (tx) => {
    await repo.revokeUnconfirmed(tx, patientId, 'totp', now);
    await repo.insertFactor(tx, {
      patient_id: patientId,
      id,
      kind: 'totp',
      sealed_secret: sealSecret(ctx.masterKey, TOTP_PURPOSE, secret, sealAad(patientId, id)),
      email: null,
      created_at: now,
    });
  });
  return { id, secret, otpauthUri: otpauthUri(secret, person.login ?? `${person.given} ${person.family}`) };
}

/** Confirms the TOTP seed being enrolled with a first code; returns the factor id, undefined when wrong. */
export async function confirmTotpEnrolment(
  ctx: Ctx,
  db: Queryable,
  patientId: string,
  code: string,
): Promise<string | undefined> {
  const factor = await repo.latestUnconfirmed(db, patientId, 'totp');
  if (!factor?.sealed_secret) throw invalid('Start the TOTP enrolment first', 'code');
  return (await useTotp(ctx, db, factor, code)) ? factor.id : undefined;
}

async function useTotp(
  ctx: Ctx,
  db: Queryable,
  factor: { patient_id: string; id: string; sealed_secret: Buffer | null; last_step: string | null },
  code: string,
): Promise<boolean> {
  if (!factor.sealed_secret) return false;
  const secret = base32Decode(
    openSecret(ctx.masterKey, TOTP_PURPOSE, factor.sealed_secret, sealAad(factor.patient_id, factor.id)),
  );
  const now = ctx.clock.now();
  const step = verifyTotp(secret, code, now, factor.last_step === null ? null : Number(factor.last_step));
  if (step === undefined) return false;
  // Conditional update: of two concurrent uses of one code, only one gets through.
  return repo.useTotpStep(db, factor.patient_id, factor.id, step, now);
}

/** Issues a six-digit code for `sessionId` and the mail that carries it. */
async function issueEmailCode(
  ctx: Ctx,
  db: Queryable,
  input: {
    patientId: string;
    sessionId: string;
    factorId: string;
    email: string;
    purpose: 'enrolment' | 'sign_in';
  },
): Promise<OutgoingMail> {
  const now = ctx.clock.now();
  const id = uuidv7();
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  await repo.insertOneTimeCode(db, {
    patient_id: input.patientId,
    id,
    session_id: input.sessionId,
    factor_id: input.factorId,
    code_hash: codeHash(ctx, id, code),
    created_at: now,
    expires_at: new Date(now.getTime() + EMAIL_CODE_MINUTES * 60_000),
  });
  const what =
    input.purpose === 'enrolment'
      ? { fr: 'pour confirmer cette adresse', en: 'to confirm this address' }
      : { fr: 'pour vous connecter', en: 'to sign in' };
  return {
    id,
    to: input.email,
    subject: `Carnet : votre code ${code} / your code`,
    at: now,
    text: [
      `Votre code ${what.fr} : ${code}`,
      `Il est valable ${EMAIL_CODE_MINUTES} minutes. Si vous n'êtes pas à l'origine de cette demande, ignorez ce message et changez votre mot de passe.`,
      '',
      `Your code ${what.en}: ${code}`,
      `It is valid for ${EMAIL_CODE_MINUTES} minutes. If you did not ask for it, ignore this message and change your password.`,
    ].join('\n'),
  };
}

/** Starts an e-mail factor enrolment: keeps the address (unconfirmed) and sends a code to it. */
export async function startEmailEnrolment(
  ctx: Ctx,
  input: { patientId: string; sessionId: string; email: string },
): Promise<OutgoingMail> {
  const now = ctx.clock.now();
  const email = input.email.trim().toLowerCase();
  return ctx.rootDb.transaction().execute(async (tx) => {
    await repo.revokeUnconfirmed(tx, input.patientId, 'email', now);
    const factorId = uuidv7();
    await repo.insertFactor(tx, {
      patient_id: input.patientId,
      id: factorId,
      kind: 'email',
      sealed_secret: null,
      email,
      created_at: now,
    });
    return issueEmailCode(ctx, tx, { ...input, factorId, email, purpose: 'enrolment' });
  });
}

/**
 * Checks the code sent for `sessionId` (counting the attempt). Returns the factor it was sent for,
 * or undefined when wrong, expired, used up or absent. The attempt count is written in `db`: the
 * caller commits it even when the code was wrong.
 */
export async function checkEmailCode(
  ctx: Ctx,
  db: Queryable,
  patientId: string,
  sessionId: string,
  code: string,
): Promise<string | undefined> {
  const now = ctx.clock.now();
  const row = await repo.latestCodeForSession(db, patientId, sessionId);
  if (!row) return undefined;
  if (new Date(row.expires_at).getTime() <= now.getTime() || row.attempts >= EMAIL_CODE_MAX_ATTEMPTS)
    return undefined;
  await repo.countCodeAttempt(db, patientId, row.id);
  const given = codeHash(ctx, row.id, code);
  if (given.length !== row.code_hash.length || !timingSafeEqual(given, row.code_hash)) return undefined;
  if (!(await repo.useCode(db, patientId, row.id, now))) return undefined;
  await repo.markFactorUsed(db, patientId, row.factor_id, now);
  return row.factor_id;
}

/** Whether a code was sent for this session (then the second factor asked is the e-mail one). */
export async function emailCodePending(
  db: Queryable,
  patientId: string,
  sessionId: string,
): Promise<boolean> {
  return (await repo.latestCodeForSession(db, patientId, sessionId)) !== undefined;
}

/** Confirms the e-mail factor being enrolled; returns its id, undefined when the code is wrong. */
export async function confirmEmailEnrolment(
  ctx: Ctx,
  db: Queryable,
  patientId: string,
  sessionId: string,
  code: string,
): Promise<string | undefined> {
  const factorId = await checkEmailCode(ctx, db, patientId, sessionId, code);
  if (!factorId) return undefined;
  const factor = await repo.findFactor(db, patientId, factorId);
  return factor?.kind === 'email' ? factorId : undefined;
}

/** The person's confirmed second factors. */
export async function listSecondFactors(ctx: Ctx, patientId: string): Promise<SecondFactorView[]> {
  return (await repo.confirmedFactors(ctx.db, patientId)).map((f) => ({
    id: f.id,
    kind: f.kind,
    label: f.kind === 'email' && f.email ? maskEmail(f.email) : 'Application d’authentification (TOTP)',
    createdAt: new Date(f.created_at),
    lastUsedAt: f.last_used_at ? new Date(f.last_used_at) : null,
  }));
}

/** The factor the sign-in asks for: TOTP when there is one (no mail to wait for), else e-mail. */
export async function preferredFactor(
  db: Queryable,
  patientId: string,
): Promise<{ kind: SecondFactorKind; id: string; email: string | null } | undefined> {
  const factors = await repo.confirmedFactors(db, patientId);
  const f = factors.find((x) => x.kind === 'totp') ?? factors[0];
  return f ? { kind: f.kind, id: f.id, email: f.email } : undefined;
}

/** Sends a sign-in code for a pending (second_factor) session. */
export async function sendSignInCode(
  ctx: Ctx,
  db: Queryable,
  input: { patientId: string; sessionId: string; factorId: string; email: string },
): Promise<OutgoingMail> {
  return issueEmailCode(ctx, db, { ...input, purpose: 'sign_in' });
}

/**
 * Checks a sign-in second-factor code: the e-mail code sent for the session if there is one,
 * else every TOTP factor. Returns the method ('password+totp' | 'password+email') or undefined.
 */
export async function verifySignInCode(
  ctx: Ctx,
  db: Queryable,
  patientId: string,
  sessionId: string,
  code: string,
): Promise<'password+email' | 'password+totp' | undefined> {
  if (await emailCodePending(db, patientId, sessionId)) {
    return (await checkEmailCode(ctx, db, patientId, sessionId, code)) ? 'password+email' : undefined;
  }
  for (const f of await repo.confirmedFactors(db, patientId)) {
    if (f.kind === 'totp' && (await useTotp(ctx, db, f, code))) return 'password+totp';
  }
  return undefined;
}

/** Removes a factor; refused (409) for the last one while the person signs in with a password. */
export async function removeSecondFactor(
  ctx: Ctx,
  db: Queryable,
  input: { patientId: string; id: string; hasPassword: boolean },
): Promise<boolean> {
  const factors = await repo.confirmedFactors(db, input.patientId);
  const target = factors.find((f) => f.id === input.id);
  if (!target) return false;
  if (input.hasPassword && factors.length === 1)
    throw new AppError(
      'conflict',
      'This is your last second factor: a password alone is not enough to protect a health record. Add another second factor first.',
    );
  return repo.revokeFactor(db, input.patientId, input.id, ctx.clock.now());
}
