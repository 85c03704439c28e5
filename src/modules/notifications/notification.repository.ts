import { sql } from 'kysely';
import type { Queryable } from '../../platform/db/database.ts';
import type { NotificationInboxRow, NotificationRow } from '../../platform/db/schema.ts';
import type { Grant } from '../access/index.ts';
import type { Channel, Language, Preference } from './notification.ts';

/**
 * SQL for the notifications module — and nothing else. What a person reads or changes (their
 * notification centre, their preferences) takes a Grant from the access gate; what the workers do
 * for Carnet itself (relay, delivery bookkeeping, scheduled jobs) does not.
 */

/** Wakes the relay when the transaction that wrote an outbox row commits (NOTIFY is transactional). */
export const OUTBOX_CHANNEL = 'carnet_outbox';

export async function notifyOutbox(db: Queryable): Promise<void> {
  await sql`select pg_notify(${OUTBOX_CHANNEL}, '')`.execute(db);
}

// ---- outbox ----------------------------------------------------------------------------------

export interface NewOutboxRow {
  patientId: string;
  id: string;
  type: string;
  data: Record<string, unknown>;
  mandatory: boolean;
  coalesceKey: string | null;
  createdAt: Date;
}

/** Inserts an outbox row; false when a notification with the same coalescing key exists. */
export async function insertOutboxRow(db: Queryable, row: NewOutboxRow): Promise<boolean> {
  const inserted = await db
    .insertInto('notifications')
    .values({
      patient_id: row.patientId,
      id: row.id,
      type: row.type,
      data: JSON.stringify(row.data),
      mandatory: row.mandatory,
      coalesce_key: row.coalesceKey,
      created_at: row.createdAt,
    })
    .onConflict((oc) => oc.columns(['patient_id', 'coalesce_key']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function listUnrelayed(db: Queryable, limit: number): Promise<NotificationRow[]> {
  return db
    .selectFrom('notifications')
    .selectAll()
    .where('relayed_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

export async function markRelayed(
  db: Queryable,
  rows: ReadonlyArray<{ patient_id: string; id: string }>,
  at: Date,
): Promise<void> {
  if (!rows.length) return;
  await db
    .updateTable('notifications')
    .set({ relayed_at: at })
    .where((eb) => eb.or(rows.map((r) => eb.and([eb('patient_id', '=', r.patient_id), eb('id', '=', r.id)]))))
    .execute();
}

export async function findOutboxRow(
  db: Queryable,
  patientId: string,
  id: string,
): Promise<NotificationRow | undefined> {
  return db
    .selectFrom('notifications')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/**
 * The address notification e-mails go to. Reads one column of identity's table: identity exposes
 * no e-mail today (TODO(identity): move behind identity's index).
 */
export async function findPatientEmail(db: Queryable, patientId: string): Promise<string | null> {
  const row = await db.selectFrom('patients').select('email').where('id', '=', patientId).executeTakeFirst();
  return row?.email ?? null;
}

// ---- deliveries --------------------------------------------------------------------------------

export interface DeliveryRecord {
  patientId: string;
  notificationId: string;
  channel: Channel;
  outcome: 'delivered' | 'skipped';
  detail: string | null;
  attempt: number;
  recordedAt: Date;
}

export async function findDelivery(
  db: Queryable,
  patientId: string,
  notificationId: string,
  channel: Channel,
): Promise<{ outcome: 'delivered' | 'skipped' } | undefined> {
  return db
    .selectFrom('notification_deliveries')
    .select('outcome')
    .where('patient_id', '=', patientId)
    .where('notification_id', '=', notificationId)
    .where('channel', '=', channel)
    .executeTakeFirst();
}

/** Records a delivery; false when one was already recorded for this notification and channel. */
export async function insertDelivery(db: Queryable, d: DeliveryRecord): Promise<boolean> {
  const inserted = await db
    .insertInto('notification_deliveries')
    .values({
      patient_id: d.patientId,
      notification_id: d.notificationId,
      channel: d.channel,
      outcome: d.outcome,
      detail: d.detail,
      attempt: d.attempt,
      recorded_at: d.recordedAt,
    })
    .onConflict((oc) => oc.columns(['patient_id', 'notification_id', 'channel']).doNothing())
    .returning('notification_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

// ---- the notification centre (a person's data: Grant required) ---------------------------------

export async function insertInboxItem(
  db: Queryable,
  row: Omit<NotificationInboxRow, 'read_at'>,
): Promise<void> {
  await db
    .insertInto('notification_inbox')
    .values(row)
    .onConflict((oc) => oc.columns(['patient_id', 'id']).doNothing())
    .execute();
}

/** Whose notification this is (and nothing else), to ask the gate; undefined when there is none. */
export async function findInboxOwner(db: Queryable, id: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('notification_inbox')
    .select('patient_id')
    .where('id', '=', id)
    .executeTakeFirst();
  return row?.patient_id;
}

export async function listInbox(
  db: Queryable,
  grant: Grant,
  filter: { unreadOnly: boolean; after?: { createdAt: Date; id: string } },
  limit: number,
): Promise<NotificationInboxRow[]> {
  let q = db.selectFrom('notification_inbox').selectAll().where('patient_id', '=', grant.patientId);
  if (filter.unreadOnly) q = q.where('read_at', 'is', null);
  const after = filter.after;
  if (after) {
    q = q.where((eb) =>
      eb.or([
        eb('created_at', '<', after.createdAt),
        eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)]),
      ]),
    );
  }
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export async function countUnread(db: Queryable, grant: Grant): Promise<number> {
  const row = await db
    .selectFrom('notification_inbox')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('patient_id', '=', grant.patientId)
    .where('read_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function setInboxReadAt(
  db: Queryable,
  grant: Grant,
  id: string,
  readAt: Date | null,
): Promise<NotificationInboxRow | undefined> {
  return db
    .updateTable('notification_inbox')
    .set({ read_at: readAt })
    .where('patient_id', '=', grant.patientId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteInboxItem(db: Queryable, grant: Grant, id: string): Promise<boolean> {
  const deleted = await db
    .deleteFrom('notification_inbox')
    .where('patient_id', '=', grant.patientId)
    .where('id', '=', id)
    .returning('id')
    .executeTakeFirst();
  return deleted !== undefined;
}

// ---- preferences -------------------------------------------------------------------------------

/** Stored preferences, for the worker deciding a delivery (Carnet's own bookkeeping, no actor). */
export async function loadDeliverySettings(
  db: Queryable,
  patientId: string,
): Promise<{ preferences: Preference[]; language: Language | undefined }> {
  const [prefs, settings] = await Promise.all([
    db
      .selectFrom('notification_preferences')
      .select(['type', 'channel', 'enabled'])
      .where('patient_id', '=', patientId)
      .execute(),
    db
      .selectFrom('notification_settings')
      .select('language')
      .where('patient_id', '=', patientId)
      .executeTakeFirst(),
  ]);
  return { preferences: prefs as Preference[], language: settings?.language };
}

export async function loadPreferences(
  db: Queryable,
  grant: Grant,
): Promise<{ preferences: Preference[]; language: Language | undefined }> {
  return loadDeliverySettings(db, grant.patientId);
}

export async function upsertPreferences(
  db: Queryable,
  grant: Grant,
  changes: readonly Preference[],
  at: Date,
): Promise<void> {
  if (!changes.length) return;
  await db
    .insertInto('notification_preferences')
    .values(
      changes.map((c) => ({
        patient_id: grant.patientId,
        type: c.type,
        channel: c.channel,
        enabled: c.enabled,
        updated_at: at,
      })),
    )
    .onConflict((oc) =>
      oc.columns(['patient_id', 'type', 'channel']).doUpdateSet((eb) => ({
        enabled: eb.ref('excluded.enabled'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute();
}

export async function upsertLanguage(
  db: Queryable,
  grant: Grant,
  language: Language,
  at: Date,
): Promise<void> {
  await db
    .insertInto('notification_settings')
    .values({ patient_id: grant.patientId, language, updated_at: at })
    .onConflict((oc) => oc.column('patient_id').doUpdateSet({ language, updated_at: at }))
    .execute();
}
