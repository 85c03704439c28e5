/**
 * SQL of the measurements module. Every read and write of an entry takes the Grant of the gate
 * (the document-only Guarded/ItemFacts do not apply to structured data), so nothing reaches
 * storage around the gate; only `patientOfMeasurement` (which record an id belongs to) runs before.
 */
import { sql, type Selectable } from 'kysely';
import type { Grant } from '../access/index.ts';
import type { Queryable } from '../../platform/db/database.ts';
import type { MeasurementsTable, MeasurementTargetsTable } from '../../platform/db/schema-measurements.ts';

export type MeasurementRow = Selectable<MeasurementsTable>;
export type TargetRow = Selectable<MeasurementTargetsTable>;

/** Which record an entry belongs to (no health data): what the gate needs to decide on a read by id. */
export async function patientOfMeasurement(db: Queryable, id: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('measurements')
    .select('patient_id')
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row?.patient_id;
}

export async function findMeasurement(
  db: Queryable,
  grant: Grant,
  id: string,
): Promise<MeasurementRow | undefined> {
  return db
    .selectFrom('measurements')
    .selectAll()
    .where('patient_id', '=', grant.patientId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

export async function findByKey(
  db: Queryable,
  grant: Grant,
  key: { idempotencyKey: string } | { source: string; externalId: string },
): Promise<MeasurementRow | undefined> {
  let q = db.selectFrom('measurements').selectAll().where('patient_id', '=', grant.patientId);
  q =
    'idempotencyKey' in key
      ? q.where('idempotency_key', '=', key.idempotencyKey)
      : q.where('source', '=', key.source).where('external_id', '=', key.externalId);
  return q.executeTakeFirst();
}

export interface ListFilter {
  types?: string[];
  from?: Date;
  to?: Date;
  /** Keyset: entries strictly before this (effective_at, id), newest first. */
  before?: { at: Date; id: string };
  limit: number;
  /** Oldest first (series) rather than newest first (listing). */
  ascending?: boolean;
}

export async function listRows(db: Queryable, grant: Grant, f: ListFilter): Promise<MeasurementRow[]> {
  let q = db
    .selectFrom('measurements')
    .selectAll()
    .where('patient_id', '=', grant.patientId)
    .where('deleted_at', 'is', null);
  if (f.types) q = q.where('type', 'in', f.types);
  if (f.from) q = q.where('effective_at', '>=', f.from);
  if (f.to) q = q.where('effective_at', '<=', f.to);
  if (f.before) {
    const b = f.before;
    q = q.where((eb) =>
      eb.or([eb('effective_at', '<', b.at), eb.and([eb('effective_at', '=', b.at), eb('id', '<', b.id)])]),
    );
  }
  const dir = f.ascending ? 'asc' : 'desc';
  return q.orderBy('effective_at', dir).orderBy('id', dir).limit(f.limit).execute();
}

export async function insertMeasurement(
  db: Queryable,
  grant: Grant,
  row: Omit<MeasurementRow, 'patient_id' | 'values_json' | 'device' | 'version'> & {
    values: Record<string, number>;
    device: Record<string, unknown> | null;
  },
): Promise<void> {
  const { values, device, ...rest } = row;
  await db
    .insertInto('measurements')
    .values({
      ...rest,
      patient_id: grant.patientId,
      values_json: JSON.stringify(values),
      device: device ? JSON.stringify(device) : null,
      version: 1,
    })
    .execute();
}

export async function updateMeasurement(
  db: Queryable,
  grant: Grant,
  id: string,
  expectedVersion: number,
  changes: {
    values?: Record<string, number>;
    effective?: string;
    effectiveAt?: Date;
    comment?: string | null;
    deletedAt?: Date;
    updatedAt: Date;
  },
): Promise<boolean> {
  const res = await db
    .updateTable('measurements')
    .set({
      ...(changes.values ? { values_json: JSON.stringify(changes.values) } : {}),
      ...(changes.effective !== undefined ? { effective: changes.effective } : {}),
      ...(changes.effectiveAt ? { effective_at: changes.effectiveAt } : {}),
      ...(changes.comment !== undefined ? { comment: changes.comment } : {}),
      ...(changes.deletedAt ? { deleted_at: changes.deletedAt } : {}),
      updated_at: changes.updatedAt,
      version: sql<number>`version + 1`,
    })
    .where('patient_id', '=', grant.patientId)
    .where('id', '=', id)
    .where('version', '=', expectedVersion)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function insertChange(
  db: Queryable,
  grant: Grant,
  change: {
    measurementId: string;
    version: number;
    action: 'create' | 'update' | 'delete';
    at: Date;
    actor: { kind: string; id: string | null; display: string };
    before: Record<string, unknown> | null;
  },
): Promise<void> {
  await db
    .insertInto('measurement_changes')
    .values({
      patient_id: grant.patientId,
      measurement_id: change.measurementId,
      version: change.version,
      action: change.action,
      changed_at: change.at,
      actor_kind: change.actor.kind,
      actor_id: change.actor.id,
      actor_display: change.actor.display,
      before: change.before ? JSON.stringify(change.before) : null,
    })
    .execute();
}

export async function listChanges(db: Queryable, grant: Grant, measurementId: string) {
  return db
    .selectFrom('measurement_changes')
    .selectAll()
    .where('patient_id', '=', grant.patientId)
    .where('measurement_id', '=', measurementId)
    .orderBy('version')
    .execute();
}

export async function listTargets(db: Queryable, grant: Grant): Promise<TargetRow[]> {
  return db
    .selectFrom('measurement_targets')
    .selectAll()
    .where('patient_id', '=', grant.patientId)
    .orderBy('type')
    .execute();
}

export async function replaceTargets(
  db: Queryable,
  grant: Grant,
  rows: Array<Omit<TargetRow, 'patient_id'>>,
): Promise<void> {
  await db.deleteFrom('measurement_targets').where('patient_id', '=', grant.patientId).execute();
  if (rows.length === 0) return;
  await db
    .insertInto('measurement_targets')
    .values(rows.map((r) => ({ ...r, patient_id: grant.patientId })))
    .execute();
}
