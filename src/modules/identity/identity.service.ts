import { hash as argonHash } from '@node-rs/argon2';
import { timingSafeEqual } from 'node:crypto';
import { AppError, invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { deriveKey, keyedHash, randomToken, sha256 } from '../../platform/crypto.ts';
import type { Queryable } from '../../platform/db/database.ts';
import { uuidv7 } from '../../platform/ids.ts';
import type { PatientRow } from '../../platform/db/schema.ts';
import type { PatientActor, ProfessionalActor } from '../access/index.ts';
import * as repo from './identity.repository.ts';
import { validateIns } from './ins.ts';
import { isKnownProfession, isKnownSpecialty } from './professions.ts';
import { parseProfessionalIdentifier } from './rpps.ts';
import {
  preferredFactor,
  sendSignInCode,
  type OutgoingMail,
  type SecondFactorKind,
} from './second-factor.ts';
import { verifyPassword } from './security-password.ts';
import { recordSignIn, recordSignOut } from './session-audit.ts';
import { touchSession } from './security.repository.ts';
import {
  assertNotThrottled,
  recordThrottleFailure,
  recordThrottleSuccess,
  throttleKeys,
} from './throttle.ts';
import { signAccessToken, verifyAccessToken } from './tokens.ts';

/** argon2id parameters (OWASP 2024 minimum: m=19 MiB, t=2, p=1). */
const ARGON = { algorithm: 2 as const, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export interface Patient {
  id: string;
  ins: { matricule: string; oid: string };
  given: string;
  family: string;
  birthDate: string;
  sex: 'M' | 'F' | 'U';
}

export function toPatient(row: PatientRow): Patient {
  return {
    id: row.id,
    ins: { matricule: row.ins_matricule, oid: row.ins_oid },
    given: row.given,
    family: row.family,
    birthDate: row.birth_date,
    sex: row.sex as Patient['sex'],
  };
}

export interface NewPatient {
  matricule: string;
  oid: string;
  given: string;
  family: string;
  birthDate: string;
  sex: 'M' | 'F' | 'U';
  birthplaceCode?: string;
  email?: string;
  login?: string;
  password?: string;
}

export async function registerPatient(
  ctx: Ctx,
  input: NewPatient,
): Promise<{ patient: Patient; warnings: string[] }> {
  const ins = validateIns(
    { matricule: input.matricule, oid: input.oid },
    { testOids: ctx.config.testInsOids },
  );
  if (!ins.ok) throw invalid(ins.reason, ins.field);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.birthDate))
    throw invalid('birthDate must be YYYY-MM-DD', 'birthDate');
  const id = uuidv7();
  const now = ctx.clock.now();
  await repo.insertPatient(ctx.db, {
    id,
    ins_matricule: ins.matricule,
    ins_oid: ins.oid,
    given: input.given,
    family: input.family,
    birth_date: input.birthDate,
    sex: input.sex,
    birthplace_code: input.birthplaceCode ?? null,
    email: input.email ?? null,
    // Stored as sign-in looks it up (signIn trims and lower-cases), or a mixed-case login never matches.
    login: input.login !== undefined ? input.login.trim().toLowerCase() : null,
    password_hash: input.password ? await argonHash(input.password, ARGON) : null,
    created_at: now,
    updated_at: now,
  });
  const row = await repo.findPatientById(ctx.db, id);
  if (!row) throw new AppError('internal', 'patient vanished after insert');
  return { patient: toPatient(row), warnings: ins.warnings };
}

/**
 * Finds the patient an INS designates. An INS with a wrong key is refused (400) unless its OID is a
 * configured test OID; an unknown patient is refused too.
 */
export async function resolvePatientByIns(
  ctx: Ctx,
  ins: { matricule: string; oid: string },
  field: string,
): Promise<{ patient: Patient; warnings: string[] }> {
  const checked = validateIns(ins, { testOids: ctx.config.testInsOids });
  if (!checked.ok) throw invalid(checked.reason, field);
  const row = await repo.findPatientByIns(ctx.db, checked.matricule, checked.oid);
  if (!row) throw invalid('Unknown patient: no record for this INS', field);
  return { patient: toPatient(row), warnings: checked.warnings };
}

export async function getPatient(ctx: Ctx, id: string): Promise<Patient | undefined> {
  const row = await repo.findPatientById(ctx.db, id);
  return row ? toPatient(row) : undefined;
}

export interface Professional {
  id: string;
  rpps: string;
  professionCode: string;
  specialtyCode: string | null;
  given: string;
  family: string;
}

export async function registerOrganization(
  ctx: Ctx,
  input: { finess: string | null; name: string; kind: string },
): Promise<{ id: string }> {
  if (input.finess !== null && !/^[0-9AB]{9}$/.test(input.finess))
    throw invalid('FINESS must be 9 characters', 'finess');
  const id = uuidv7();
  await repo.insertOrganization(ctx.db, {
    id,
    finess: input.finess,
    name: input.name,
    kind: input.kind,
    created_at: ctx.clock.now(),
  });
  return { id };
}

export async function registerProfessional(
  ctx: Ctx,
  input: { rpps: string; professionCode: string; specialtyCode?: string; given: string; family: string },
): Promise<Professional> {
  const parsed = parseProfessionalIdentifier(input.rpps);
  if (!parsed.ok) throw invalid(parsed.reason, 'rpps');
  if (!isKnownProfession(input.professionCode))
    throw invalid(`Unknown profession code ${input.professionCode} (TRE_G15)`, 'professionCode');
  if (input.specialtyCode && !isKnownSpecialty(input.specialtyCode)) {
    throw invalid(`Unknown specialty code ${input.specialtyCode} (TRE_R38)`, 'specialtyCode');
  }
  const id = uuidv7();
  await repo.insertProfessional(ctx.db, {
    id,
    rpps: parsed.rpps,
    profession_code: input.professionCode,
    specialty_code: input.specialtyCode ?? null,
    given: input.given,
    family: input.family,
    active: true,
    created_at: ctx.clock.now(),
  });
  return {
    id,
    rpps: parsed.rpps,
    professionCode: input.professionCode,
    specialtyCode: input.specialtyCode ?? null,
    given: input.given,
    family: input.family,
  };
}

export async function findProfessionalByRpps(ctx: Ctx, rpps: string): Promise<Professional | undefined> {
  const row = await repo.findProfessionalByRpps(ctx.db, rpps);
  return row
    ? {
        id: row.id,
        rpps: row.rpps,
        professionCode: row.profession_code,
        specialtyCode: row.specialty_code,
        given: row.given,
        family: row.family,
      }
    : undefined;
}

export async function listProfessionals(ctx: Ctx, ids: string[]): Promise<Professional[]> {
  return (await repo.findProfessionalsByIds(ctx.db, ids)).map((row) => ({
    id: row.id,
    rpps: row.rpps,
    professionCode: row.profession_code,
    specialtyCode: row.specialty_code,
    given: row.given,
    family: row.family,
  }));
}

/** Creates a client for professional software; the secret is shown once and stored only as a hash. */
export async function createClient(
  ctx: Ctx,
  input: { organizationId: string; professionalId: string; name: string; clientId?: string; secret?: string },
): Promise<{ clientId: string; clientSecret: string }> {
  const clientId = input.clientId ?? `carnet-${randomToken(9)}`;
  const clientSecret = input.secret ?? randomToken(32);
  await repo.insertClient(ctx.db, {
    id: uuidv7(),
    client_id: clientId,
    secret_hash: sha256(clientSecret),
    organization_id: input.organizationId,
    professional_id: input.professionalId,
    name: input.name,
    active: true,
    created_at: ctx.clock.now(),
  });
  return { clientId, clientSecret };
}

function tokenKey(ctx: Ctx): Buffer {
  return deriveKey(ctx.masterKey, 'access-token-signing');
}

/** OAuth2 client credentials grant. Same answer for an unknown client and a wrong secret. */
export async function issueToken(
  ctx: Ctx,
  clientId: string,
  clientSecret: string,
): Promise<{ access_token: string; token_type: 'Bearer'; expires_in: number; scope: string }> {
  const client = await repo.findClient(ctx.db, clientId);
  const given = sha256(clientSecret);
  const expected = client?.secret_hash ?? sha256(randomToken());
  if (!client || !client.active || !timingSafeEqual(given, expected)) {
    throw new AppError('unauthenticated', 'invalid_client');
  }
  const actor = await repo.findActiveClientWithProfessional(ctx.db, client.id);
  if (!actor) throw new AppError('unauthenticated', 'invalid_client');
  const scope = 'system/DocumentReference.crud system/Binary.r system/List.c';
  const ttl = ctx.config.tokenTtlSeconds;
  const token = await signAccessToken(
    tokenKey(ctx),
    clientId,
    { cid: client.id, rpps: actor.rpps, scope },
    ctx.clock.now(),
    ttl,
  );
  return { access_token: token, token_type: 'Bearer', expires_in: ttl, scope };
}

/** Resolves a bearer token to the professional actor it carries; 401 when invalid, expired or deactivated. */
export async function authenticateBearer(ctx: Ctx, token: string): Promise<ProfessionalActor> {
  const claims = await verifyAccessToken(tokenKey(ctx), token, ctx.clock.now());
  const row = await repo.findActiveClientWithProfessional(ctx.db, claims.cid);
  if (!row || row.rpps !== claims.rpps || row.client_id !== claims.sub) {
    throw new AppError('unauthenticated', 'The access token is no longer valid');
  }
  return {
    kind: 'professional',
    professionalId: row.professional_id,
    rpps: row.rpps,
    professionCode: row.profession_code,
    specialtyCode: row.specialty_code,
    display: `${row.given} ${row.family}`,
    organizationId: row.organization_id,
    clientId: row.client_id,
    // The emergency medical regulation (SAMU, centre 15) is an organisation of kind 'samu'.
    emergencyRegulator: row.organization_kind === 'samu',
  };
}

/** What a password sign-in gives: a signed-in session, or a pending one awaiting the second factor. */
export type SignInResult =
  | { kind: 'signed_in'; token: string; expiresAt: Date; patientId: string }
  | {
      kind: 'second_factor';
      token: string;
      expiresAt: Date;
      secondFactor: SecondFactorKind;
      /** The one-time code to send (e-mail factor), once this returned. */
      mail?: OutgoingMail;
    };

/** How long the password step stays valid while the second factor is awaited. */
export const SECOND_FACTOR_MINUTES = 5;

/**
 * Password sign-in. Throttled per login and per IP (throttle.ts: 429 with Retry-After once
 * locked, for unknown logins alike). Unknown login, wrong password, a space that is not open
 * (pending, opposed, suspended, closed): the same 401, after the same argon2 work.
 *
 * A second factor is required when the person has one enrolled, or when their space was not
 * created by a registration (origin 'import' or 'birth': such people get credentials only through
 * activation, which enrols a factor). Only a registration-era account with no factor enrolled
 * signs in with the password alone (the legacy path, kept for existing accounts and test seeds).
 * With a factor: a pending 'second_factor' session (5 minutes) is opened; for the e-mail factor a
 * code is issued (to send). `completeSecondFactor` turns it into a fresh signed-in session.
 */
export async function signIn(
  ctx: Ctx,
  login: string,
  password: string,
  meta: SessionMeta = {},
): Promise<SignInResult> {
  const normalized = login.trim().toLowerCase();
  const keys = throttleKeys(ctx, { account: { kind: 'login', value: normalized }, ip: meta.ip });
  await assertNotThrottled(ctx, keys);
  const row = await repo.findPatientByLogin(ctx.db, normalized);
  // Verified against a dummy hash for unknown logins, so timing does not reveal which accounts exist.
  const ok = await verifyPassword(row?.password_hash, password);
  if (!row || !ok || row.account_status !== 'open') {
    await recordThrottleFailure(ctx, keys);
    throw new AppError('unauthenticated', 'Wrong login or password');
  }
  const factor = await preferredFactor(ctx.db, row.id);
  if (!factor) {
    if (row.origin !== 'registration') {
      await recordThrottleFailure(ctx, keys);
      throw new AppError('unauthenticated', 'Wrong login or password');
    }
    await recordThrottleSuccess(ctx, keys);
    const s = await ctx.rootDb.transaction().execute(async (tx) => {
      const opened = await startSession(ctx, tx, row.id, { ...meta, authMethod: 'password' });
      await recordSignIn(ctx, tx, {
        patientId: row.id,
        display: `${row.given} ${row.family}`,
        sessionId: opened.id,
        method: 'password',
      });
      return opened;
    });
    return { kind: 'signed_in', token: s.token, expiresAt: s.expiresAt, patientId: row.id };
  }
  // The account counter is cleared only once the second factor is right too.
  return ctx.rootDb.transaction().execute(async (tx) => {
    const s = await startSession(ctx, tx, row.id, {
      ...meta,
      authMethod: 'password',
      state: 'second_factor',
      ttlMinutes: SECOND_FACTOR_MINUTES,
    });
    const base = { kind: 'second_factor' as const, token: s.token, expiresAt: s.expiresAt };
    if (factor.kind === 'email' && factor.email) {
      const mail = await sendSignInCode(ctx, tx, {
        patientId: row.id,
        sessionId: s.id,
        factorId: factor.id,
        email: factor.email,
      });
      return { ...base, secondFactor: 'email' as const, mail };
    }
    return { ...base, secondFactor: factor.kind };
  });
}

/** Where and how a session was opened (shown in the person's list of sessions). */
export interface SessionMeta {
  readonly authMethod?: string;
  readonly userAgent?: string | undefined;
  readonly ip?: string | undefined;
}

/**
 * Opens a session for the person, in `db`. A fresh random token each time (sessions are rotated at
 * sign-in: an earlier cookie never becomes a signed-in one). `state: 'second_factor'` opens a
 * session that signs nobody in until the second factor is checked (see `completeSecondFactor`).
 */
export async function startSession(
  ctx: Ctx,
  db: Queryable,
  patientId: string,
  meta: SessionMeta & { state?: 'active' | 'second_factor' | 'enrolment'; ttlMinutes?: number },
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const token = randomToken(32);
  const now = ctx.clock.now();
  const ttlMs =
    meta.ttlMinutes !== undefined ? meta.ttlMinutes * 60_000 : ctx.config.sessionTtlHours * 3600_000;
  const expiresAt = new Date(now.getTime() + ttlMs);
  const id = uuidv7();
  await repo.insertSession(db, {
    patient_id: patientId,
    id,
    token_hash: sha256(token),
    expires_at: expiresAt,
    state: meta.state ?? 'active',
    auth_method: meta.authMethod ?? null,
    user_agent: meta.userAgent?.slice(0, 300) ?? null,
    ip: meta.ip ?? null,
    last_seen_at: now,
  });
  return { id, token, expiresAt };
}

/**
 * The CSRF token of a session: an HMAC of its token, so it needs no storage, changes with every
 * session and cannot be computed without the server key. Sent by the web app in `X-CSRF-Token`
 * on every state-changing request (double submit, signed).
 */
export function csrfTokenFor(ctx: Pick<Ctx, 'masterKey'>, sessionToken: string): string {
  return keyedHash(deriveKey(ctx.masterKey, 'csrf'), sessionToken).toString('base64url');
}

/** How often a session's last use is written (the security page shows it; not a write per request). */
const TOUCH_EVERY_MS = 5 * 60_000;

/** The signed-in person behind a session token (an active session only); 401 otherwise. */
export async function resolveSession(ctx: Ctx, token: string): Promise<PatientActor> {
  const now = ctx.clock.now();
  const s = await repo.findLiveSession(ctx.db, sha256(token), now);
  if (!s) throw new AppError('unauthenticated', 'Please sign in');
  await touchSession(ctx.db, s.id, now, TOUCH_EVERY_MS);
  return { kind: 'patient', patientId: s.patient_id, display: `${s.given} ${s.family}`, sessionId: s.id };
}

/**
 * Revokes the session of this token, whatever its state (signed in, pending second factor,
 * enrolment). Signing out of a live signed-in session goes on the person's trail.
 */
export async function signOut(ctx: Ctx, token: string): Promise<void> {
  const now = ctx.clock.now();
  await ctx.rootDb.transaction().execute(async (tx) => {
    const closed = await repo.revokeSession(tx, sha256(token), now);
    if (!closed || closed.state !== 'active' || new Date(closed.expires_at) <= now) return;
    const person = await repo.findPatientById(tx, closed.patient_id);
    if (!person) return;
    await recordSignOut(ctx, tx, {
      patientId: person.id,
      display: `${person.given} ${person.family}`,
      sessionId: closed.id,
    });
  });
}
