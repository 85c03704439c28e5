import { sql } from 'kysely';
import type { Queryable } from '../../platform/db/database.ts';

/**
 * SQL of the erasure of a person: the tables are discovered from the catalogue, so a table added
 * later with a `patient_id` column (or a foreign key to `patients`) is erased too, without a
 * change here. Only the current schema (the application's) is considered.
 */

export interface ErasurePlan {
  /** Tables to clear, children before parents (by their foreign keys); `patients` is not among them. */
  steps: Array<{ table: string; columns: string[] }>;
  /** Columns of `patients` itself that point to another person (e.g. the declaring parent): set to null. */
  patientRefs: string[];
  /** Columns holding blob keys, per table (`blob_key`, `…_blob_key`). */
  blobColumns: Array<{ table: string; column: string }>;
}

export async function erasurePlan(db: Queryable): Promise<ErasurePlan> {
  const patientIdTables = (
    await sql<{ table_name: string }>`
      select c.table_name from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = current_schema() and c.column_name = 'patient_id' and t.table_type = 'BASE TABLE'
    `.execute(db)
  ).rows.map((r) => r.table_name);
  const refs = (
    await sql<{ table_name: string; column_name: string }>`
      select cl.relname as table_name, a.attname as column_name
      from pg_constraint con
      join pg_class cl on cl.oid = con.conrelid
      join pg_namespace n on n.oid = cl.relnamespace
      join pg_class target on target.oid = con.confrelid
      join pg_attribute a on a.attrelid = con.conrelid and a.attnum = any (con.conkey)
      where con.contype = 'f' and target.relname = 'patients' and n.nspname = current_schema()
        and array_length(con.conkey, 1) = 1
    `.execute(db)
  ).rows;
  const edges = (
    await sql<{ child: string; parent: string }>`
      select child.relname as child, parent.relname as parent
      from pg_constraint con
      join pg_class child on child.oid = con.conrelid
      join pg_class parent on parent.oid = con.confrelid
      join pg_namespace n on n.oid = child.relnamespace
      where con.contype = 'f' and n.nspname = current_schema()
    `.execute(db)
  ).rows;
  const blobColumns = (
    await sql<{ table_name: string; column_name: string }>`
      select c.table_name, c.column_name from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = current_schema() and t.table_type = 'BASE TABLE'
        and (c.column_name = 'blob_key' or c.column_name like '%\\_blob\\_key' escape '\\')
    `.execute(db)
  ).rows;

  const columns = new Map<string, Set<string>>();
  const add = (table: string, column: string): void => {
    if (table === 'patients') return;
    const set = columns.get(table) ?? new Set<string>();
    set.add(column);
    columns.set(table, set);
  };
  for (const t of patientIdTables) add(t, 'patient_id');
  for (const r of refs) add(r.table_name, r.column_name);

  // Children first: a table is cleared once no remaining table refers to it.
  const remaining = new Set(columns.keys());
  const steps: ErasurePlan['steps'] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(
      (t) => !edges.some((e) => e.parent === t && e.child !== t && remaining.has(e.child)),
    );
    // A cycle (none today): clear what is left in name order and let the database say no.
    const batch = (ready.length > 0 ? ready : [...remaining]).sort();
    for (const t of batch) {
      steps.push({ table: t, columns: [...(columns.get(t) ?? [])].sort() });
      remaining.delete(t);
    }
  }
  return {
    steps,
    patientRefs: refs.filter((r) => r.table_name === 'patients').map((r) => r.column_name),
    blobColumns: blobColumns
      .filter((c) => patientIdTables.includes(c.table_name))
      .map((c) => ({ table: c.table_name, column: c.column_name })),
  };
}

export async function blobKeysOf(db: Queryable, plan: ErasurePlan, patientId: string): Promise<string[]> {
  const keys: string[] = [];
  for (const { table, column } of plan.blobColumns) {
    const rows = await sql<{ key: string | null }>`
      select ${sql.ref(column)} as key from ${sql.table(table)} where patient_id = ${patientId}
    `.execute(db);
    for (const r of rows.rows) if (r.key) keys.push(r.key);
  }
  return keys;
}

/** Deletes every row of the person (the patients row last); returns the number of rows per table. */
export async function deletePersonRows(
  db: Queryable,
  plan: ErasurePlan,
  patientId: string,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const ref of plan.patientRefs) {
    await sql`update patients set ${sql.ref(ref)} = null where ${sql.ref(ref)} = ${patientId}`.execute(db);
  }
  for (const step of plan.steps) {
    let n = 0;
    for (const column of step.columns) {
      const r =
        await sql`delete from ${sql.table(step.table)} where ${sql.ref(column)} = ${patientId}`.execute(db);
      n += Number(r.numAffectedRows ?? 0);
    }
    if (n > 0) counts[step.table] = n;
  }
  const r = await sql`delete from patients where id = ${patientId}`.execute(db);
  counts.patients = Number(r.numAffectedRows ?? 0);
  return counts;
}

export async function queueBlobs(db: Queryable, keys: string[], now: Date): Promise<void> {
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    await db
      .insertInto('erasure_pending_blobs')
      .values(chunk.map((blob_key) => ({ blob_key, queued_at: now })))
      .onConflict((oc) => oc.column('blob_key').doNothing())
      .execute();
  }
}

export async function pendingBlobs(db: Queryable, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('erasure_pending_blobs')
    .select('blob_key')
    .orderBy('queued_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.blob_key);
}

export async function unqueueBlob(db: Queryable, key: string): Promise<void> {
  await db.deleteFrom('erasure_pending_blobs').where('blob_key', '=', key).execute();
}
