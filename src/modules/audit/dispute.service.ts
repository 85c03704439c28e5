import { AppError, invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { isUniqueViolation, type Queryable } from '../../platform/db/database.ts';
import type { AuditDisputeChangeRow, AuditDisputeRow } from '../../platform/db/schema.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { findAuditEvent } from './audit.repository.ts';
import { recordAuditEvent } from './audit.service.ts';
import {
  canMoveDispute,
  DISPUTE_STATUSES,
  MAX_DISPUTE_COMMENT,
  MAX_DISPUTE_NOTE,
  type Dispute,
  type DisputeStatus,
} from './dispute.ts';
import * as repo from './dispute.repository.ts';

function toDispute(row: AuditDisputeRow, changes: AuditDisputeChangeRow[]): Dispute {
  return {
    id: row.id,
    patientId: row.patient_id,
    eventId: row.event_id,
    status: row.status,
    comment: row.comment,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    history: changes
      .filter((c) => c.dispute_id === row.id)
      .map((c) => ({
        at: new Date(c.at),
        from: c.from_status as DisputeStatus | null,
        to: c.to_status as DisputeStatus,
        by: { kind: c.actor_kind, id: c.actor_id },
        note: c.note,
      })),
  };
}

/**
 * Opens a dispute on an event of the patient's record. Runs in the caller's transaction, after the
 * gate allowed it. not_found when the event is not on this record; conflict when a dispute on it
 * still awaits an answer.
 * @example await openDispute(tx.db, { patientId, eventId, comment, by: { kind: 'patient', id }, now });
 */
export async function openDispute(
  db: Queryable,
  input: {
    id?: string;
    patientId: string;
    eventId: string;
    comment: string;
    by: { kind: string; id: string | null };
    now: Date;
  },
): Promise<Dispute> {
  const comment = input.comment.trim();
  if (comment.length === 0 || comment.length > MAX_DISPUTE_COMMENT)
    throw invalid(`Say in 1 to ${MAX_DISPUTE_COMMENT} characters what is wrong`, 'comment');
  if (!(await findAuditEvent(db, input.patientId, input.eventId)))
    throw new AppError('not_found', 'Not found');
  const id = input.id ?? uuidv7(input.now.getTime());
  try {
    await repo.insertDispute(db, {
      patient_id: input.patientId,
      id,
      event_id: input.eventId,
      status: 'open',
      comment,
      created_at: input.now,
      updated_at: input.now,
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw new AppError('conflict', 'This access is already reported and awaits an answer');
    throw err;
  }
  await repo.insertDisputeChange(db, {
    patient_id: input.patientId,
    dispute_id: id,
    id: uuidv7(input.now.getTime()),
    at: input.now,
    from_status: null,
    to_status: 'open',
    actor_kind: input.by.kind,
    actor_id: input.by.id,
    note: null,
  });
  return (await listDisputes(db, input.patientId)).find((d) => d.id === id) as Dispute;
}

/**
 * The patient's disputes, newest first, each with its status history.
 * @example const disputes = await listDisputes(tx.db, patientId);
 */
export async function listDisputes(db: Queryable, patientId: string): Promise<Dispute[]> {
  const rows = await repo.listDisputeRows(db, patientId);
  const changes = await repo.listDisputeChangeRows(
    db,
    patientId,
    rows.map((r) => r.id),
  );
  return rows.map((r) => toDispute(r, changes));
}

/** The operator handling disputes (structurally the access module's OperatorActor). */
export interface DisputeOperator {
  readonly kind: 'operator';
  readonly operatorId: string;
  readonly display: string;
}

/**
 * An operator moves a dispute on (open → in_review → resolved | rejected), with a note kept in its
 * history. Operators never see health data: this touches the dispute only. The change is recorded
 * in the patient's audit trail in the same transaction.
 * @example await updateDisputeStatus(ctx, operator, disputeId, 'in_review', 'Asked the practice');
 */
export async function updateDisputeStatus(
  ctx: Ctx,
  operator: DisputeOperator,
  id: string,
  status: DisputeStatus,
  note: string | null,
): Promise<Dispute> {
  if ((operator as { kind: string }).kind !== 'operator')
    throw new AppError('forbidden', 'Only operators handle disputes');
  if (!DISPUTE_STATUSES.includes(status)) throw invalid('Unknown dispute status', 'status');
  if (note !== null && note.length > MAX_DISPUTE_NOTE)
    throw invalid(`The note is longer than ${MAX_DISPUTE_NOTE} characters`, 'note');
  return ctx.rootDb.transaction().execute(async (tx) => {
    const row = await repo.findDisputeRow(tx, id, { forUpdate: true });
    if (!row) throw new AppError('not_found', 'Not found');
    if (!canMoveDispute(row.status, status))
      throw new AppError('conflict', `A dispute cannot go from ${row.status} to ${status}`);
    const now = ctx.clock.now();
    const key = { patientId: row.patient_id, id };
    await repo.setDisputeStatus(tx, key, status, now);
    await repo.insertDisputeChange(tx, {
      patient_id: row.patient_id,
      dispute_id: id,
      id: uuidv7(now.getTime()),
      at: now,
      from_status: row.status,
      to_status: status,
      actor_kind: 'operator',
      actor_id: operator.operatorId,
      note,
    });
    await recordAuditEvent(tx, {
      patientId: row.patient_id,
      recordedAt: now,
      actor: {
        kind: 'operator',
        id: operator.operatorId,
        display: operator.display,
        organizationId: null,
        clientId: null,
      },
      action: 'update',
      entity: { type: 'Dispute', id },
      outcome: 'success',
      basis: 'operator',
      reason: null,
      requestId: ctx.requestId ?? null,
      details: { from: row.status, to: status },
    });
    return (await listDisputes(tx, row.patient_id)).find((d) => d.id === id) as Dispute;
  });
}
