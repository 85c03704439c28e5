import type { Queryable } from '../../platform/db/database.ts';
import type {
  AuditDisputeChangeRow,
  AuditDisputeRow,
  AuditDisputesTable,
  AuditDisputeChangesTable,
} from '../../platform/db/schema.ts';
import type { Insertable } from 'kysely';

export async function insertDispute(db: Queryable, row: Insertable<AuditDisputesTable>): Promise<void> {
  await db.insertInto('audit_disputes').values(row).execute();
}

export async function insertDisputeChange(
  db: Queryable,
  row: Insertable<AuditDisputeChangesTable>,
): Promise<void> {
  await db.insertInto('audit_dispute_changes').values(row).execute();
}

export async function listDisputeRows(db: Queryable, patientId: string): Promise<AuditDisputeRow[]> {
  return db
    .selectFrom('audit_disputes')
    .selectAll()
    .where('patient_id', '=', patientId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

/** Operators address a dispute by its id alone. */
export async function findDisputeRow(
  db: Queryable,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<AuditDisputeRow | undefined> {
  let query = db.selectFrom('audit_disputes').selectAll().where('id', '=', id);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function setDisputeStatus(
  db: Queryable,
  key: { patientId: string; id: string },
  status: AuditDisputeRow['status'],
  at: Date,
): Promise<void> {
  await db
    .updateTable('audit_disputes')
    .set({ status, updated_at: at })
    .where('patient_id', '=', key.patientId)
    .where('id', '=', key.id)
    .execute();
}

export async function listDisputeChangeRows(
  db: Queryable,
  patientId: string,
  disputeIds: string[],
): Promise<AuditDisputeChangeRow[]> {
  if (disputeIds.length === 0) return [];
  return db
    .selectFrom('audit_dispute_changes')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('dispute_id', 'in', disputeIds)
    .orderBy('at')
    .orderBy('id')
    .execute();
}
