import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../platform/db/schema.ts';
import type { VaccinationsTable } from '../../platform/db/schema-vaccinations.ts';
import type { Grant } from '../access/index.ts';

/** SQL of the vaccination record. Every function touching a person's entries takes the Grant. */

export type VaccinationRow = Selectable<VaccinationsTable>;
export type NewVaccinationRow = Omit<VaccinationRow, 'target_diseases' | 'extra'> & {
  target_diseases: string[];
  extra: Record<string, unknown> | null;
};

/** The patient an entry belongs to (no health data): to ask the gate before reading it. */
export async function findPatientOfVaccination(
  db: Kysely<Database>,
  id: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('vaccinations')
    .select('patient_id')
    .where('id', '=', id)
    .executeTakeFirst();
  return row?.patient_id;
}

export async function findVaccination(
  db: Kysely<Database>,
  grant: Grant,
  id: string,
  options: { withDeleted?: boolean } = {},
): Promise<VaccinationRow | undefined> {
  let q = db
    .selectFrom('vaccinations')
    .selectAll()
    .where('patient_id', '=', grant.patientId)
    .where('id', '=', id);
  if (!options.withDeleted) q = q.where('deleted_at', 'is', null);
  return q.executeTakeFirst();
}

export async function findByKey(
  db: Kysely<Database>,
  grant: Grant,
  key: { idempotencyKey?: string; source?: string; externalId?: string },
): Promise<VaccinationRow | undefined> {
  let q = db.selectFrom('vaccinations').selectAll().where('patient_id', '=', grant.patientId);
  if (key.idempotencyKey) q = q.where('idempotency_key', '=', key.idempotencyKey);
  else if (key.source && key.externalId)
    q = q.where('source', '=', key.source).where('external_id', '=', key.externalId);
  else return undefined;
  return q.executeTakeFirst();
}

export async function listVaccinationRows(
  db: Kysely<Database>,
  grant: Grant,
  range: { from?: string; to?: string } = {},
): Promise<VaccinationRow[]> {
  let q = db
    .selectFrom('vaccinations')
    .selectAll()
    .where('patient_id', '=', grant.patientId)
    .where('deleted_at', 'is', null);
  if (range.from) q = q.where('occurred_on', '>=', range.from);
  if (range.to) q = q.where('occurred_on', '<=', range.to);
  return q.orderBy('occurred_on', 'desc').orderBy('id', 'desc').execute();
}

function toDb(row: NewVaccinationRow) {
  return {
    ...row,
    target_diseases: JSON.stringify(row.target_diseases),
    extra: row.extra ? JSON.stringify(row.extra) : null,
  };
}

export async function insertVaccination(
  db: Kysely<Database>,
  grant: Grant,
  row: NewVaccinationRow,
): Promise<void> {
  await db
    .insertInto('vaccinations')
    .values(toDb({ ...row, patient_id: grant.patientId }))
    .execute();
}

export async function replaceVaccination(
  db: Kysely<Database>,
  grant: Grant,
  row: NewVaccinationRow,
): Promise<void> {
  const { patient_id: _p, id, ...rest } = toDb(row);
  await db
    .updateTable('vaccinations')
    .set(rest)
    .where('patient_id', '=', grant.patientId)
    .where('id', '=', id)
    .execute();
}

export async function insertChange(
  db: Kysely<Database>,
  grant: Grant,
  change: {
    vaccinationId: string;
    version: number;
    change: 'create' | 'update' | 'confirm' | 'delete';
    at: Date;
    actorKind: string;
    actorId: string | null;
    actorDisplay: string;
    snapshot: Record<string, unknown>;
  },
): Promise<void> {
  await db
    .insertInto('vaccination_changes')
    .values({
      patient_id: grant.patientId,
      vaccination_id: change.vaccinationId,
      version: change.version,
      change: change.change,
      changed_at: change.at,
      actor_kind: change.actorKind,
      actor_id: change.actorId,
      actor_display: change.actorDisplay,
      snapshot: JSON.stringify(change.snapshot),
    })
    .execute();
}

export async function listChanges(db: Kysely<Database>, grant: Grant, vaccinationId: string) {
  return db
    .selectFrom('vaccination_changes')
    .selectAll()
    .where('patient_id', '=', grant.patientId)
    .where('vaccination_id', '=', vaccinationId)
    .orderBy('version', 'asc')
    .execute();
}
