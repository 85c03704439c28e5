import type { Insertable } from 'kysely';
import type { Queryable } from '../../platform/db/database.ts';
import type { OneTimeCodesTable, SecondFactorsTable } from '../../platform/db/schema-auth.ts';

export async function insertFactor(db: Queryable, row: Insertable<SecondFactorsTable>): Promise<void> {
  await db.insertInto('second_factors').values(row).execute();
}

export async function findFactor(db: Queryable, patientId: string, id: string) {
  return db
    .selectFrom('second_factors')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

/** Confirmed, not revoked factors of the person, oldest first. */
export async function confirmedFactors(db: Queryable, patientId: string) {
  return db
    .selectFrom('second_factors')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('revoked_at', 'is', null)
    .where('confirmed_at', 'is not', null)
    .orderBy('created_at')
    .execute();
}

/** Drops factors started but never confirmed (a new enrolment replaces them). */
export async function revokeUnconfirmed(
  db: Queryable,
  patientId: string,
  kind: 'totp' | 'email',
  now: Date,
): Promise<void> {
  await db
    .updateTable('second_factors')
    .set({ revoked_at: now })
    .where('patient_id', '=', patientId)
    .where('kind', '=', kind)
    .where('confirmed_at', 'is', null)
    .where('revoked_at', 'is', null)
    .execute();
}

/** The latest factor of a kind started but not confirmed yet. */
export async function latestUnconfirmed(db: Queryable, patientId: string, kind: 'totp' | 'email') {
  return db
    .selectFrom('second_factors')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('kind', '=', kind)
    .where('confirmed_at', 'is', null)
    .where('revoked_at', 'is', null)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

/**
 * Records a TOTP step as used, only if later than the last one (two concurrent uses of one code:
 * one wins). Confirms the factor if it was not yet. False when the step was already used.
 */
export async function useTotpStep(
  db: Queryable,
  patientId: string,
  id: string,
  step: number,
  now: Date,
): Promise<boolean> {
  const res = await db
    .updateTable('second_factors')
    .set((eb) => ({
      last_step: step,
      last_used_at: now,
      confirmed_at: eb.fn.coalesce('confirmed_at', eb.val(now)),
    }))
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', String(step))]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function markFactorUsed(db: Queryable, patientId: string, id: string, now: Date): Promise<void> {
  await db
    .updateTable('second_factors')
    .set((eb) => ({ last_used_at: now, confirmed_at: eb.fn.coalesce('confirmed_at', eb.val(now)) }))
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .execute();
}

export async function revokeFactor(
  db: Queryable,
  patientId: string,
  id: string,
  now: Date,
): Promise<boolean> {
  const res = await db
    .updateTable('second_factors')
    .set({ revoked_at: now })
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function insertOneTimeCode(db: Queryable, row: Insertable<OneTimeCodesTable>): Promise<void> {
  await db.insertInto('one_time_codes').values(row).execute();
}

/** The latest unused code sent for a session, locked for update. */
export async function latestCodeForSession(db: Queryable, patientId: string, sessionId: string) {
  return db
    .selectFrom('one_time_codes')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('session_id', '=', sessionId)
    .where('used_at', 'is', null)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .forUpdate()
    .executeTakeFirst();
}

export async function countCodeAttempt(db: Queryable, patientId: string, id: string): Promise<void> {
  await db
    .updateTable('one_time_codes')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .execute();
}

export async function useCode(db: Queryable, patientId: string, id: string, now: Date): Promise<boolean> {
  const res = await db
    .updateTable('one_time_codes')
    .set({ used_at: now })
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}
