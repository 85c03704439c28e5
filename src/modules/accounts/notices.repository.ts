import type { Queryable } from '../../platform/db/database.ts';
import type { PostalAddress } from '../../platform/db/schema.ts';

/** SQL of account notices (tables account_notices, account_letters; reads the person's facts). */

export interface NoticeRow {
  patient_id: string;
  id: string;
  kind: string;
  channel: 'email' | 'letter';
  sealed_payload: Buffer | null;
  created_at: Date;
}

export interface NoticeRecipient {
  given: string;
  family: string;
  email: string | null;
  postal_address: PostalAddress | null;
  opposition_deadline: Date | null;
  suspension_deadline: Date | null;
  erase_after: Date | null;
  language: 'fr' | 'en' | null;
}

export async function patientContact(
  db: Queryable,
  patientId: string,
): Promise<{ email: string | null } | undefined> {
  return db.selectFrom('patients').select('email').where('id', '=', patientId).executeTakeFirst();
}

export async function insertNotice(
  db: Queryable,
  row: {
    patient_id: string;
    id: string;
    kind: string;
    channel: 'email' | 'letter';
    sealed_payload: Buffer | null;
    created_at: Date;
  },
): Promise<void> {
  await db.insertInto('account_notices').values(row).execute();
}

/** Ids of pending notices, oldest first. */
export async function pendingNoticeIds(
  db: Queryable,
  limit: number,
): Promise<Array<{ patient_id: string; id: string }>> {
  return db
    .selectFrom('account_notices')
    .select(['patient_id', 'id'])
    .where('delivered_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Locks one pending notice for delivery (skipped when another worker holds it or it was delivered). */
export async function lockPendingNotice(
  db: Queryable,
  patientId: string,
  id: string,
): Promise<NoticeRow | undefined> {
  return db
    .selectFrom('account_notices')
    .select(['patient_id', 'id', 'kind', 'channel', 'sealed_payload', 'created_at'])
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .where('delivered_at', 'is', null)
    .forUpdate()
    .skipLocked()
    .executeTakeFirst();
}

export async function recipient(db: Queryable, patientId: string): Promise<NoticeRecipient | undefined> {
  return db
    .selectFrom('patients as p')
    .leftJoin('notification_settings as s', 's.patient_id', 'p.id')
    .select([
      'p.given',
      'p.family',
      'p.email',
      'p.postal_address',
      'p.opposition_deadline',
      'p.suspension_deadline',
      'p.erase_after',
      's.language',
    ])
    .where('p.id', '=', patientId)
    .executeTakeFirst();
}

export async function markDelivered(
  db: Queryable,
  patientId: string,
  id: string,
  at: Date,
  letterBlobKey: string | null,
): Promise<void> {
  await db
    .updateTable('account_notices')
    .set({ delivered_at: at, sealed_payload: null, letter_blob_key: letterBlobKey })
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .execute();
}

export async function insertLetterKey(
  db: Queryable,
  row: { patient_id: string; notice_id: string; key_id: string; wrapped_key: Buffer; created_at: Date },
): Promise<void> {
  await db
    .insertInto('account_letters')
    .values(row)
    .onConflict((oc) => oc.columns(['patient_id', 'notice_id']).doUpdateSet(row))
    .execute();
}

export async function letter(
  db: Queryable,
  patientId: string,
  noticeId: string,
): Promise<{ letter_blob_key: string; key_id: string; wrapped_key: Buffer } | undefined> {
  const row = await db
    .selectFrom('account_notices as n')
    .innerJoin('account_letters as l', (j) =>
      j.onRef('l.patient_id', '=', 'n.patient_id').onRef('l.notice_id', '=', 'n.id'),
    )
    .select(['n.letter_blob_key', 'l.key_id', 'l.wrapped_key'])
    .where('n.patient_id', '=', patientId)
    .where('n.id', '=', noticeId)
    .where('n.channel', '=', 'letter')
    .executeTakeFirst();
  if (!row || row.letter_blob_key === null) return undefined;
  return { letter_blob_key: row.letter_blob_key, key_id: row.key_id, wrapped_key: row.wrapped_key };
}
