import type { Queryable } from '../../platform/db/database.ts';
import type { AuditEventRow } from '../../platform/db/schema.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { findAuditEvent, insertAuditEvents, listAuditEvents, type AuditQuery } from './audit.repository.ts';
import type { NewAuditEvent, StoredAuditEvent } from './audit.ts';

/**
 * Records one event, unchained (the sealer chains it once committed), in the caller's transaction.
 * @example await recordAuditEvent(tx, { patientId, recordedAt: now, actor, action: 'read', … });
 */
export async function recordAuditEvent(db: Queryable, event: NewAuditEvent): Promise<string> {
  const id = uuidv7(event.recordedAt.getTime());
  await insertAuditEvents(db, [
    {
      id,
      patient_id: event.patientId,
      recorded_at: event.recordedAt,
      actor_kind: event.actor.kind,
      actor_id: event.actor.id,
      actor_display: event.actor.display,
      actor_profession: event.actor.professionCode ?? null,
      on_behalf_of: null,
      organization_id: event.actor.organizationId,
      client_id: event.actor.clientId,
      action: event.action,
      entity_type: event.entity.type,
      entity_id: event.entity.id,
      outcome: event.outcome,
      basis: event.basis,
      reason: event.reason,
      request_id: event.requestId,
      details: JSON.stringify(event.details),
    },
  ]);
  return id;
}

function toEvent(row: AuditEventRow): StoredAuditEvent {
  return {
    id: row.id,
    seq: String(row.seq),
    patientId: row.patient_id,
    recordedAt: new Date(row.recorded_at),
    actor: {
      kind: row.actor_kind,
      id: row.actor_id,
      display: row.actor_display,
      organizationId: row.organization_id,
      clientId: row.client_id,
      professionCode: row.actor_profession,
    },
    action: row.action,
    entity: { type: row.entity_type, id: row.entity_id },
    outcome: row.outcome,
    basis: row.basis,
    reason: row.reason,
    requestId: row.request_id,
    details: row.details,
  };
}

/**
 * Events on one patient's record, newest first, keyset-paged by `beforeSeq`.
 * @example await listPatientAuditEvents(tx.db, { patientId, actorKinds: ['app'], limit: 50 });
 */
export async function listPatientAuditEvents(db: Queryable, query: AuditQuery): Promise<StoredAuditEvent[]> {
  return (await listAuditEvents(db, query)).map(toEvent);
}

/** One event of a patient's record, or undefined. */
export async function findPatientAuditEvent(
  db: Queryable,
  patientId: string,
  id: string,
): Promise<StoredAuditEvent | undefined> {
  const row = await findAuditEvent(db, patientId, id);
  return row ? toEvent(row) : undefined;
}
