import type { Insertable } from 'kysely';
import type { Queryable } from '../../platform/db/database.ts';
import type { ProvisionalCodesTable } from '../../platform/db/schema.ts';

export async function revokeLiveCodes(db: Queryable, patientId: string, now: Date): Promise<void> {
  await db
    .updateTable('provisional_codes')
    .set({ revoked_at: now })
    .where('patient_id', '=', patientId)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .execute();
}

export async function insertCode(db: Queryable, row: Insertable<ProvisionalCodesTable>): Promise<void> {
  await db.insertInto('provisional_codes').values(row).execute();
}

export async function liveCodes(db: Queryable, patientId: string, now: Date) {
  return db
    .selectFrom('provisional_codes')
    .select(['id', 'code_hash'])
    .where('patient_id', '=', patientId)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .execute();
}

/** True when this call consumed it (a concurrent use finds it already used). */
export async function consumeCode(db: Queryable, patientId: string, id: string, now: Date): Promise<boolean> {
  const r = await db
    .updateTable('provisional_codes')
    .set({ used_at: now })
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return r.numUpdatedRows === 1n;
}
