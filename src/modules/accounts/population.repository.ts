import { sql } from 'kysely';
import type { Queryable } from '../../platform/db/database.ts';

/** SQL of the population import (tables population_imports, account_notices in bulk). */

export async function insertNoticesBulk(
  db: Queryable,
  rows: ReadonlyArray<{
    patientId: string;
    id: string;
    kind: string;
    channel: 'email' | 'letter';
    sealedPayload: Buffer | null;
  }>,
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    insert into account_notices (patient_id, id, kind, channel, sealed_payload, created_at)
    select t.p, t.id, t.k, t.c, t.s, ${now}
    from unnest(${rows.map((r) => r.patientId)}::uuid[], ${rows.map((r) => r.id)}::uuid[],
      ${rows.map((r) => r.kind)}::text[], ${rows.map((r) => r.channel)}::text[],
      ${rows.map((r) => r.sealedPayload)}::bytea[]) as t(p, id, k, c, s)`.execute(db);
}

export async function startImportRun(db: Queryable, id: string, source: string, at: Date): Promise<void> {
  await db.insertInto('population_imports').values({ id, source, started_at: at }).execute();
}

export async function finishImportRun(
  db: Queryable,
  id: string,
  at: Date,
  counts: { read: number; created: number; children: number; alreadyPresent: number; rejected: number },
): Promise<void> {
  await db
    .updateTable('population_imports')
    .set({
      finished_at: at,
      read_rows: counts.read,
      created: counts.created,
      children: counts.children,
      already_present: counts.alreadyPresent,
      rejected: counts.rejected,
    })
    .where('id', '=', id)
    .execute();
}

/**
 * An import batch need not wait for its commit to reach the disk: after a crash, running the same
 * file again restores whatever was lost (the import is idempotent). Applies to the current transaction.
 */
export async function relaxCommitDurability(db: Queryable): Promise<void> {
  await sql`set local synchronous_commit = off`.execute(db);
}
