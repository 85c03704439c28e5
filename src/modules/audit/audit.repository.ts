import type { Queryable } from '../../platform/db/database.ts';
import type { AuditEventRow, NewAuditEventRow } from '../../platform/db/schema.ts';

export async function insertAuditEvents(db: Queryable, rows: NewAuditEventRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insertInto('audit_events').values(rows).execute();
}

export interface AuditQuery {
  patientId: string;
  entityType?: string;
  /** Only events by these actor kinds (a history tab). */
  actorKinds?: readonly string[];
  from?: Date;
  to?: Date;
  limit: number;
  /** Keyset cursor: events strictly older than this seq. */
  beforeSeq?: string;
}

export async function listAuditEvents(db: Queryable, q: AuditQuery): Promise<AuditEventRow[]> {
  let query = db.selectFrom('audit_events').selectAll().where('patient_id', '=', q.patientId);
  if (q.entityType) query = query.where('entity_type', '=', q.entityType);
  if (q.actorKinds) query = query.where('actor_kind', 'in', [...q.actorKinds]);
  if (q.from) query = query.where('recorded_at', '>=', q.from);
  if (q.to) query = query.where('recorded_at', '<', q.to);
  if (q.beforeSeq) query = query.where('seq', '<', q.beforeSeq);
  return query.orderBy('seq', 'desc').limit(q.limit).execute();
}

export async function findAuditEvent(
  db: Queryable,
  patientId: string,
  id: string,
): Promise<AuditEventRow | undefined> {
  return db
    .selectFrom('audit_events')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .executeTakeFirst();
}
