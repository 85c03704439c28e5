import type { Queryable } from '../../platform/db/database.ts';

/** The people a matricule designates (under any INS OID). */
export async function findPatientsByMatricule(db: Queryable, matricule: string) {
  return db
    .selectFrom('patients')
    .select(['id', 'card_serial', 'account_status', 'activated_at', 'given', 'family', 'login'])
    .where('ins_matricule', '=', matricule)
    .execute();
}

export async function findEnrolmentSession(db: Queryable, tokenHash: Buffer, now: Date) {
  return db
    .selectFrom('sessions')
    .select(['id', 'patient_id'])
    .where('token_hash', '=', tokenHash)
    .where('state', '=', 'enrolment')
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

export async function loginTaken(db: Queryable, login: string, patientId: string): Promise<boolean> {
  const row = await db
    .selectFrom('patients')
    .select('id')
    .where('login', '=', login)
    .where('id', '!=', patientId)
    .executeTakeFirst();
  return row !== undefined;
}

export async function saveCredentials(
  db: Queryable,
  row: { patient_id: string; session_id: string; login: string; password_hash: string; created_at: Date },
): Promise<void> {
  await db
    .insertInto('enrolment_credentials')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['patient_id', 'session_id']).doUpdateSet({
        login: row.login,
        password_hash: row.password_hash,
        created_at: row.created_at,
      }),
    )
    .execute();
}

export async function findCredentials(db: Queryable, patientId: string, sessionId: string) {
  return db
    .selectFrom('enrolment_credentials')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('session_id', '=', sessionId)
    .executeTakeFirst();
}

export async function deleteCredentials(db: Queryable, patientId: string): Promise<void> {
  await db.deleteFrom('enrolment_credentials').where('patient_id', '=', patientId).execute();
}

export async function findPatientState(db: Queryable, patientId: string) {
  return db
    .selectFrom('patients')
    .select(['id', 'account_status', 'activated_at', 'given', 'family', 'password_hash', 'login'])
    .where('id', '=', patientId)
    .forUpdate()
    .executeTakeFirst();
}

export async function activatePatient(
  db: Queryable,
  patientId: string,
  input: { login?: string; passwordHash?: string; statusChanged: boolean },
  now: Date,
): Promise<void> {
  await db
    .updateTable('patients')
    .set((eb) => ({
      activated_at: eb.fn.coalesce('activated_at', eb.val(now)),
      account_status: 'open',
      updated_at: now,
      ...(input.statusChanged ? { status_changed_at: now } : {}),
      ...(input.login !== undefined ? { login: input.login } : {}),
      ...(input.passwordHash !== undefined ? { password_hash: input.passwordHash } : {}),
    }))
    .where('id', '=', patientId)
    .execute();
}

/** Turns the enrolment session into an active one (signed in with `method`). */
export async function activateSession(
  db: Queryable,
  patientId: string,
  sessionId: string,
  method: string,
  expiresAt: Date,
): Promise<boolean> {
  const res = await db
    .updateTable('sessions')
    .set({ state: 'active', auth_method: method, expires_at: expiresAt })
    .where('patient_id', '=', patientId)
    .where('id', '=', sessionId)
    .where('state', '=', 'enrolment')
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}
