import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { AppError } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { deriveKey, keyedHash } from '../../platform/crypto.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { recordAuditEvent } from '../audit/index.ts';
import { finishEnrolment, resolveEnrolment } from './enrolment.ts';
import { resolveSession, startSession, type SessionMeta } from './identity.service.ts';
import {
  ALGORITHMS,
  CHALLENGE_MINUTES,
  counterMovesForward,
  knownTransports,
  passkeyName,
  patientAuditActor,
  relyingParty,
  RP_NAME,
  toView,
  type PasskeyView,
} from './passkey.ts';
import * as repo from './passkey.repository.ts';
import { recordSignIn } from './session-audit.ts';
import { assertNotThrottled, recordThrottleFailure, throttleKeys } from './throttle.ts';

/**
 * Passkey ceremonies and the list of a person's passkeys. Challenges are single use and live
 * CHALLENGE_MINUTES; sign-in uses discoverable credentials (the browser offers the person's
 * passkeys, the server names no one, so the options reveal no account).
 */

/** Who registers a passkey: a signed-in person, or a person activating their space. */
export interface PasskeyRegistrant {
  patientId: string;
  sessionId: string;
  display: string;
  /** True during activation: the passkey completes the enrolment (instead of a password). */
  enrolment: boolean;
}

/**
 * The person behind a session cookie who may add a passkey: an active session, else an activation
 * (enrolment) session; 401 otherwise.
 */
export async function resolvePasskeyRegistrant(ctx: Ctx, sessionToken: string): Promise<PasskeyRegistrant> {
  try {
    const actor = await resolveSession(ctx, sessionToken);
    return {
      patientId: actor.patientId,
      sessionId: actor.sessionId,
      display: actor.display,
      enrolment: false,
    };
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'unauthenticated') throw err;
  }
  const enrolment = await resolveEnrolment(ctx, sessionToken);
  const person = await repo.findPatientForRegistration(ctx.db, enrolment.patientId);
  if (!person) throw new AppError('unauthenticated', 'Please sign in');
  return { ...enrolment, display: `${person.given} ${person.family}`, enrolment: true };
}

/**
 * The user handle the authenticator stores with the passkey: opaque (an HMAC of the person's id,
 * so neither the id nor anything personal leaves), and stable, so that a new passkey on the same
 * authenticator replaces the old one rather than piling up.
 */
export function userHandleFor(ctx: Pick<Ctx, 'masterKey'>, patientId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(keyedHash(deriveKey(ctx.masterKey, 'webauthn-user-handle'), patientId));
}

async function newChallenge(
  ctx: Ctx,
  row: {
    kind: 'registration' | 'authentication';
    challenge: string;
    patientId: string | null;
    sessionId: string | null;
  },
): Promise<void> {
  const now = ctx.clock.now();
  await repo.deleteExpiredChallenges(ctx.db, now);
  await repo.insertChallenge(ctx.db, {
    id: uuidv7(),
    patient_id: row.patientId,
    session_id: row.sessionId,
    kind: row.kind,
    challenge: row.challenge,
    created_at: now,
    expires_at: new Date(now.getTime() + CHALLENGE_MINUTES * 60_000),
  });
}

/** Reads the challenge a browser answered, from its client data; undefined when unreadable. */
function answeredChallenge(clientDataJSON: string): string | undefined {
  try {
    const data: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    if (data && typeof data === 'object' && 'challenge' in data && typeof data.challenge === 'string')
      return data.challenge;
  } catch {
    // Not JSON: refused below like any unknown challenge.
  }
  return undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Options for navigator.credentials.create(): a resident key, user verification required. */
export async function startPasskeyRegistration(
  ctx: Ctx,
  who: PasskeyRegistrant,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const person = await repo.findPatientForRegistration(ctx.db, who.patientId);
  if (!person) throw new AppError('unauthenticated', 'Please sign in');
  if (!who.enrolment && person.account_status !== 'open')
    throw new AppError('forbidden', 'Passkeys can only be added to an open space');
  const { rpID } = relyingParty(ctx.config);
  const existing = await repo.listLiveCredentials(ctx.db, who.patientId);
  const display = `${person.given} ${person.family}`;
  const options = await generateRegistrationOptions({
    rpName: RP_NAME,
    rpID,
    userID: userHandleFor(ctx, who.patientId),
    userName: person.login ?? display,
    userDisplayName: display,
    timeout: CHALLENGE_MINUTES * 60_000,
    attestationType: 'none',
    excludeCredentials: existing.map((c) => ({ id: c.credential_id, transports: c.transports })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    supportedAlgorithmIDs: [...ALGORITHMS],
  });
  await newChallenge(ctx, {
    kind: 'registration',
    challenge: options.challenge,
    patientId: who.patientId,
    sessionId: who.sessionId,
  });
  return options;
}

/**
 * Verifies the browser's answer to a registration challenge and keeps the passkey. During
 * activation, the passkey completes the enrolment: the space is activated and a fresh active
 * session replaces the enrolment one (returned, for the cookie).
 */
export async function finishPasskeyRegistration(
  ctx: Ctx,
  who: PasskeyRegistrant,
  input: { credential: RegistrationResponseJSON; name?: string | undefined },
  meta: SessionMeta = {},
): Promise<{ passkey: PasskeyView; session?: { token: string; expiresAt: Date } }> {
  const now = ctx.clock.now();
  const challenge = answeredChallenge(input.credential.response.clientDataJSON);
  const issued = challenge
    ? await repo.consumeChallenge(ctx.rootDb, 'registration', challenge, now)
    : undefined;
  if (!issued || issued.patient_id !== who.patientId || issued.session_id !== who.sessionId || !challenge)
    throw new AppError(
      'invalid_input',
      'Unknown, expired or already used challenge: start again',
      'credential',
    );
  const { rpID, origin } = relyingParty(ctx.config);
  let verified;
  try {
    verified = await verifyRegistrationResponse({
      response: input.credential,
      expectedChallenge: challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      requireUserVerification: true,
      supportedAlgorithmIDs: [...ALGORITHMS],
    });
  } catch (err) {
    throw new AppError('invalid_input', `The passkey could not be verified: ${errorText(err)}`, 'credential');
  }
  if (!verified.verified)
    throw new AppError('invalid_input', 'The passkey could not be verified', 'credential');
  const info = verified.registrationInfo;
  if (await repo.credentialIdExists(ctx.db, info.credential.id))
    throw new AppError('conflict', 'This passkey is already registered', 'credential');
  const row = {
    patient_id: who.patientId,
    id: uuidv7(),
    credential_id: info.credential.id,
    public_key: Buffer.from(info.credential.publicKey),
    counter: info.credential.counter,
    transports: knownTransports(input.credential.response.transports),
    name: passkeyName(input.name, now),
    aaguid: info.aaguid,
    backed_up: info.credentialBackedUp,
    created_at: now,
    last_used_at: null,
  };
  return ctx.rootDb.transaction().execute(async (tx) => {
    await repo.insertCredential(tx, row);
    await recordAuditEvent(tx, {
      patientId: who.patientId,
      recordedAt: now,
      actor: patientAuditActor(who.patientId, who.display),
      action: 'create',
      entity: { type: 'Passkey', id: row.id },
      outcome: 'success',
      basis: 'owner',
      reason: null,
      requestId: ctx.requestId ?? null,
      details: { enrolment: who.enrolment, aaguid: row.aaguid, backedUp: row.backed_up },
    });
    const passkey = toView(row);
    if (!who.enrolment) return { passkey };
    const txCtx = { ...ctx, db: tx };
    await finishEnrolment(txCtx, tx, {
      patientId: who.patientId,
      sessionId: who.sessionId,
      method: 'passkey',
    });
    // A new token for the newly signed-in person: the activation session's token never signs in.
    await repo.revokeSessionById(tx, who.patientId, who.sessionId, now);
    const s = await startSession(txCtx, tx, who.patientId, { ...meta, authMethod: 'passkey' });
    return { passkey, session: { token: s.token, expiresAt: s.expiresAt } };
  });
}

/** Options for navigator.credentials.get(): no allowCredentials (discoverable), verification required. */
export async function startPasskeySignIn(ctx: Ctx): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const options = await generateAuthenticationOptions({
    rpID: relyingParty(ctx.config).rpID,
    timeout: CHALLENGE_MINUTES * 60_000,
    userVerification: 'required',
  });
  await newChallenge(ctx, {
    kind: 'authentication',
    challenge: options.challenge,
    patientId: null,
    sessionId: null,
  });
  return options;
}

const SIGN_IN_FAILED = 'Passkey sign-in failed';

/**
 * Verifies a passkey assertion and opens an active session. Every refusal answers the same 401
 * and leaves a 'denied' event (on the owner's trail when the passkey is known: a refused
 * known passkey — revoked, cloned, closed space — is the owner's business). Refusals count
 * against the caller's IP (throttle.ts IP_RULE; 429 with Retry-After once locked).
 */
export async function finishPasskeySignIn(
  ctx: Ctx,
  credential: AuthenticationResponseJSON,
  meta: SessionMeta & { route?: string } = {},
): Promise<{ patientId: string; token: string; expiresAt: Date }> {
  // Per IP only: the passkey names nobody until it is verified.
  const keys = throttleKeys(ctx, { ip: meta.ip });
  await assertNotThrottled(ctx, keys);
  const now = ctx.clock.now();
  let owner: string | null = null;
  const refuse = async (reason: string): Promise<never> => {
    await recordThrottleFailure(ctx, keys);
    await recordAuditEvent(ctx.rootDb, {
      patientId: owner,
      recordedAt: now,
      actor: {
        kind: 'anonymous',
        id: null,
        display: 'Unauthenticated caller',
        organizationId: null,
        clientId: null,
      },
      action: 'authenticate',
      entity: { type: 'Session', id: null },
      outcome: 'denied',
      basis: null,
      reason,
      requestId: ctx.requestId ?? null,
      details: { credential: 'passkey', method: 'POST', route: meta.route ?? '/api/passkeys/authentication' },
    }).catch((e: unknown) => ctx.log.error({ err: e }, 'could not record a refused passkey sign-in'));
    throw new AppError('unauthenticated', SIGN_IN_FAILED);
  };
  const challenge = answeredChallenge(credential.response.clientDataJSON);
  const issued = challenge
    ? await repo.consumeChallenge(ctx.rootDb, 'authentication', challenge, now)
    : undefined;
  if (!issued || !challenge) return refuse('unknown, expired or used challenge');
  const stored = await repo.findCredentialForSignIn(ctx.db, credential.id);
  if (!stored) return refuse('unknown passkey');
  owner = stored.patient_id;
  if (stored.revoked_at !== null) return refuse('revoked passkey');
  if (stored.account_status !== 'open') return refuse(`space ${stored.account_status}`);
  const handle = credential.response.userHandle;
  if (handle !== undefined && handle !== Buffer.from(userHandleFor(ctx, owner)).toString('base64url'))
    return refuse('user handle does not match the passkey');
  const { rpID, origin } = relyingParty(ctx.config);
  const storedCounter = Number(stored.counter);
  let verified;
  try {
    verified = await verifyAuthenticationResponse({
      response: credential,
      expectedChallenge: challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      credential: {
        id: stored.credential_id,
        publicKey: new Uint8Array(stored.public_key),
        counter: storedCounter,
        transports: stored.transports,
      },
      requireUserVerification: true,
    });
  } catch (err) {
    return refuse(errorText(err).slice(0, 200));
  }
  const info = verified.authenticationInfo;
  if (!verified.verified) return refuse('signature not verified');
  if (!counterMovesForward(storedCounter, info.newCounter))
    return refuse('signature counter went backwards (cloned authenticator?)');
  const display = `${stored.given} ${stored.family}`;
  const patientId = owner;
  const opened = await ctx.rootDb.transaction().execute(async (tx) => {
    const moved = await repo.recordCredentialUse(
      tx,
      { patientId, id: stored.id },
      {
        previousCounter: storedCounter,
        counter: info.newCounter,
        backedUp: info.credentialBackedUp,
        at: now,
      },
    );
    if (!moved) return undefined;
    const s = await startSession({ ...ctx, db: tx }, tx, patientId, { ...meta, authMethod: 'passkey' });
    await recordSignIn(ctx, tx, {
      patientId,
      display,
      sessionId: s.id,
      method: 'passkey',
      details: { credential: 'passkey', passkeyId: stored.id },
    });
    return s;
  });
  if (!opened) return refuse('passkey used concurrently or revoked meanwhile');
  return { patientId, token: opened.token, expiresAt: opened.expiresAt };
}
