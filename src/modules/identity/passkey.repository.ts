import type { Insertable } from 'kysely';
import type { Queryable } from '../../platform/db/database.ts';
import type { WebauthnChallengesTable, WebauthnCredentialsTable } from '../../platform/db/schema-passkeys.ts';

export async function insertChallenge(
  db: Queryable,
  row: Insertable<WebauthnChallengesTable>,
): Promise<void> {
  await db.insertInto('webauthn_challenges').values(row).execute();
}

/** Forgets challenges that expired before `before` (used or not): they can never be used again. */
export async function deleteExpiredChallenges(db: Queryable, before: Date): Promise<void> {
  await db.deleteFrom('webauthn_challenges').where('expires_at', '<', before).execute();
}

/**
 * Marks a live challenge of that kind used and returns it; undefined when unknown, expired or
 * already used (a concurrent second use finds it used).
 */
export async function consumeChallenge(
  db: Queryable,
  kind: 'registration' | 'authentication',
  challenge: string,
  now: Date,
) {
  return db
    .updateTable('webauthn_challenges')
    .set({ used_at: now })
    .where('challenge', '=', challenge)
    .where('kind', '=', kind)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['id', 'patient_id', 'session_id'])
    .executeTakeFirst();
}

export async function insertCredential(
  db: Queryable,
  row: Insertable<WebauthnCredentialsTable>,
): Promise<void> {
  await db.insertInto('webauthn_credentials').values(row).execute();
}

export async function credentialIdExists(db: Queryable, credentialId: string): Promise<boolean> {
  const row = await db
    .selectFrom('webauthn_credentials')
    .select('id')
    .where('credential_id', '=', credentialId)
    .executeTakeFirst();
  return row !== undefined;
}

/** A credential by the authenticator's id, revoked or not, with its owner's account state. */
export async function findCredentialForSignIn(db: Queryable, credentialId: string) {
  return db
    .selectFrom('webauthn_credentials as c')
    .innerJoin('patients as p', 'p.id', 'c.patient_id')
    .select([
      'c.patient_id',
      'c.id',
      'c.credential_id',
      'c.public_key',
      'c.counter',
      'c.transports',
      'c.revoked_at',
      'p.account_status',
      'p.given',
      'p.family',
    ])
    .where('c.credential_id', '=', credentialId)
    .executeTakeFirst();
}

/** Records a use: the new counter (only forwards, checked again here) and the backup state. */
export async function recordCredentialUse(
  db: Queryable,
  key: { patientId: string; id: string },
  use: { previousCounter: number; counter: number; backedUp: boolean; at: Date },
): Promise<boolean> {
  const r = await db
    .updateTable('webauthn_credentials')
    .set({ counter: use.counter, backed_up: use.backedUp, last_used_at: use.at })
    .where('patient_id', '=', key.patientId)
    .where('id', '=', key.id)
    .where('revoked_at', 'is', null)
    .where('counter', '=', use.previousCounter)
    .executeTakeFirst();
  return r.numUpdatedRows === 1n;
}

export async function listLiveCredentials(db: Queryable, patientId: string) {
  return db
    .selectFrom('webauthn_credentials')
    .select([
      'id',
      'credential_id',
      'transports',
      'name',
      'aaguid',
      'backed_up',
      'created_at',
      'last_used_at',
    ])
    .where('patient_id', '=', patientId)
    .where('revoked_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export async function renameCredential(
  db: Queryable,
  patientId: string,
  id: string,
  name: string,
): Promise<boolean> {
  const r = await db
    .updateTable('webauthn_credentials')
    .set({ name })
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return r.numUpdatedRows === 1n;
}

export async function revokeCredential(
  db: Queryable,
  patientId: string,
  id: string,
  now: Date,
): Promise<boolean> {
  const r = await db
    .updateTable('webauthn_credentials')
    .set({ revoked_at: now })
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return r.numUpdatedRows === 1n;
}

/** Revokes every live passkey of the person (e.g. "revoke all"); returns how many. */
export async function revokeAllCredentials(db: Queryable, patientId: string, now: Date): Promise<number> {
  const r = await db
    .updateTable('webauthn_credentials')
    .set({ revoked_at: now })
    .where('patient_id', '=', patientId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function findPatientForRegistration(db: Queryable, patientId: string) {
  return db
    .selectFrom('patients')
    .select(['id', 'given', 'family', 'login', 'account_status'])
    .where('id', '=', patientId)
    .executeTakeFirst();
}

/** Ends one session of the person (the activation session, once a passkey completed it). */
export async function revokeSessionById(
  db: Queryable,
  patientId: string,
  sessionId: string,
  now: Date,
): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('patient_id', '=', patientId)
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Whose passkey an id names (revoked or not), for recording a refused change on the right trail. */
export async function findCredentialOwner(db: Queryable, id: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('webauthn_credentials')
    .select('patient_id')
    .where('id', '=', id)
    .executeTakeFirst();
  return row?.patient_id;
}
