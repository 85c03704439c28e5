import type { Insertable, Updateable } from 'kysely';
import type { Queryable } from '../../platform/db/database.ts';
import type { PatientsTable } from '../../platform/db/schema.ts';
import type {
  AccountClosuresTable,
  AccountOppositionsTable,
  AccountSuspensionsTable,
} from '../../platform/db/schema-lifecycle.ts';

/**
 * SQL of the life events of a space: the state columns of `patients`, sessions to revoke, and
 * the oppositions, suspensions and closures tables. Account administration only — never health data.
 */

const PERSON_COLUMNS = [
  'id',
  'ins_matricule',
  'ins_oid',
  'given',
  'family',
  'birth_date',
  'sex',
  'email',
  'login',
  'account_status',
  'status_changed_at',
  'activated_at',
  'opposition_deadline',
  'suspension_deadline',
  'closed_at',
  'erase_after',
  'origin',
  'created_at',
] as const;

export async function findPeopleByMatricule(db: Queryable, matricule: string, oid?: string) {
  let q = db.selectFrom('patients').select(PERSON_COLUMNS).where('ins_matricule', '=', matricule);
  if (oid !== undefined) q = q.where('ins_oid', '=', oid);
  return q.execute();
}

/** The person's row, locked until the end of the transaction (one life event at a time). */
export async function lockPerson(db: Queryable, id: string) {
  return db.selectFrom('patients').select(PERSON_COLUMNS).where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function findPerson(db: Queryable, id: string) {
  return db.selectFrom('patients').select(PERSON_COLUMNS).where('id', '=', id).executeTakeFirst();
}

export type PersonRow = NonNullable<Awaited<ReturnType<typeof findPerson>>>;

export async function updatePerson(
  db: Queryable,
  id: string,
  changes: Pick<
    Updateable<PatientsTable>,
    | 'account_status'
    | 'status_changed_at'
    | 'suspension_deadline'
    | 'closed_at'
    | 'erase_after'
    | 'updated_at'
  >,
): Promise<void> {
  await db.updateTable('patients').set(changes).where('id', '=', id).execute();
}

/** Revokes every live session of the person; returns how many. */
export async function revokeSessions(db: Queryable, patientId: string, now: Date): Promise<number> {
  const r = await db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('patient_id', '=', patientId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function countLiveSessions(db: Queryable, patientId: string, now: Date): Promise<number> {
  const r = await db
    .selectFrom('sessions')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('patient_id', '=', patientId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

// Oppositions

export async function insertOpposition(
  db: Queryable,
  row: Insertable<AccountOppositionsTable>,
): Promise<void> {
  await db.insertInto('account_oppositions').values(row).execute();
}

export async function findOppositionOf(db: Queryable, patientId: string) {
  return db
    .selectFrom('account_oppositions')
    .selectAll()
    .where('patient_id', '=', patientId)
    .orderBy('opposed_at', 'desc')
    .executeTakeFirst();
}

export async function findOppositionByReference(db: Queryable, reference: string) {
  return db
    .selectFrom('account_oppositions as o')
    .innerJoin('patients as p', 'p.id', 'o.patient_id')
    .select([
      'o.patient_id',
      'o.reference',
      'o.opposed_at',
      'p.ins_matricule',
      'p.birth_date',
      'p.given',
      'p.family',
      'p.account_status',
    ])
    .where('o.reference', '=', reference)
    .executeTakeFirst();
}

// Scheduled transitions (batches, rows locked and skipped by a concurrent run)

export async function lockDueOpenings(db: Queryable, now: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('patients')
    .select('id')
    .where('account_status', '=', 'pending')
    .where('opposition_deadline', '<=', now)
    .orderBy('opposition_deadline')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
  return rows.map((r) => r.id);
}

export async function openSpaces(db: Queryable, ids: string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('patients')
    .set({ account_status: 'open', status_changed_at: now, updated_at: now })
    .where('id', 'in', ids)
    .execute();
}

export async function dueSuspensions(db: Queryable, now: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('patients')
    .select('id')
    .where('account_status', '=', 'suspended')
    .where('suspension_deadline', '<=', now)
    .orderBy('suspension_deadline')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

export async function dueErasures(db: Queryable, now: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('patients')
    .select('id')
    .where('account_status', '=', 'closed')
    .where('erase_after', '<=', now)
    .orderBy('erase_after')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

// Closures

export async function insertClosure(db: Queryable, row: Insertable<AccountClosuresTable>): Promise<void> {
  await db.insertInto('account_closures').values(row).execute();
}

export async function findLiveClosure(db: Queryable, patientId: string) {
  return db
    .selectFrom('account_closures')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('reopened_at', 'is', null)
    .executeTakeFirst();
}

export async function markErasureRequested(db: Queryable, patientId: string, id: string): Promise<void> {
  await db
    .updateTable('account_closures')
    .set({ erasure_requested: true })
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .execute();
}

export async function markReopened(db: Queryable, patientId: string, now: Date): Promise<void> {
  await db
    .updateTable('account_closures')
    .set({ reopened_at: now })
    .where('patient_id', '=', patientId)
    .where('reopened_at', 'is', null)
    .execute();
}

// Suspensions

export async function insertSuspension(
  db: Queryable,
  row: Insertable<AccountSuspensionsTable>,
): Promise<void> {
  await db.insertInto('account_suspensions').values(row).execute();
}

export async function findLiveSuspension(db: Queryable, patientId: string) {
  return db
    .selectFrom('account_suspensions')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
}

export async function endSuspension(
  db: Queryable,
  patientId: string,
  end: { at: Date; outcome: 'lifted' | 'closed'; by: string },
): Promise<void> {
  await db
    .updateTable('account_suspensions')
    .set({ ended_at: end.at, outcome: end.outcome, ended_by: end.by })
    .where('patient_id', '=', patientId)
    .where('ended_at', 'is', null)
    .execute();
}

// What an operator sees

export async function listNotices(db: Queryable, patientId: string) {
  return db
    .selectFrom('account_notices')
    .select(['kind', 'channel', 'created_at', 'delivered_at'])
    .where('patient_id', '=', patientId)
    .orderBy('created_at')
    .execute();
}

/** Representation rules on the person's record, and those where the person represents someone. */
export async function listRepresentations(db: Queryable, patientId: string, now: Date) {
  const live = (q: ReturnType<typeof base>) =>
    q
      .where('revoked_at', 'is', null)
      .where('starts_at', '<=', now)
      .where((eb) => eb.or([eb('ends_at', 'is', null), eb('ends_at', '>', now)]));
  const base = () =>
    db
      .selectFrom('access_rules')
      .select(['patient_id', 'person_id', 'role', 'ends_at'])
      .where('kind', '=', 'representation');
  const [of, by] = await Promise.all([
    live(base().where('patient_id', '=', patientId)).execute(),
    live(base().where('person_id', '=', patientId)).execute(),
  ]);
  return { representedBy: of, represents: by };
}
