import { AppError, notFound } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import {
  ACCOUNT_ENTITY,
  actorId,
  guarded,
  requireAccess,
  type OperatorActor,
  type PatientActor,
  type RepresentativeActor,
  type SystemActor,
} from '../access/index.ts';
import { recordAuditEvent, type NewAuditEvent } from '../audit/index.ts';
import * as repo from './lifecycle.repository.ts';

/**
 * Shared ground of the life events of a space (DOMAIN §2): who may trigger them, how they are
 * audited, and the calendar arithmetic of the deadlines. Each event runs in one transaction that
 * locks the person's row, so two events on one space never interleave.
 */

/** Who starts a life event: the person (or their legal representative), an operator, or Carnet itself. */
export type LifecycleActor = PatientActor | RepresentativeActor | OperatorActor | SystemActor;

export const SYSTEM_ACTOR: SystemActor = { kind: 'system', display: 'Carnet' };

/** The opposition window, and the delay between a suspension and the closure (DOMAIN §2). */
export const OPPOSITION_WEEKS = 6;
export const SUSPENSION_WEEKS = 6;
/** A closed space is archived this long, then erased. */
export const ARCHIVE_YEARS = 10;
/** Erasure on explicit request happens within this delay. */
export const ERASURE_REQUEST_MONTHS = 3;

/**
 * The operator running a command: `CARNET_OPERATOR`, else the OS user name.
 * @example operatorActor('alice') // { kind: 'operator', operatorId: 'alice', display: 'operator alice' }
 */
export function operatorActor(operatorId: string): OperatorActor {
  return { kind: 'operator', operatorId, display: `operator ${operatorId}` };
}

/** Calendar months later, in UTC (the 31st becomes the last day of a shorter month). */
export function addMonths(date: Date, months: number): Date {
  const d = new Date(date);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d;
}

export function addWeeks(date: Date, weeks: number): Date {
  return new Date(date.getTime() + weeks * 7 * 86_400_000);
}

export function auditActorOf(actor: LifecycleActor): NewAuditEvent['actor'] {
  return {
    kind: actor.kind,
    id: actorId(actor),
    display: actor.display,
    organizationId: null,
    clientId: null,
  };
}

/** The state of a space as the API and the CLI show it. */
export interface SpaceState {
  patientId: string;
  status: repo.PersonRow['account_status'];
  closedAt: string | null;
  eraseAfter: string | null;
  suspensionDeadline: string | null;
}

export function stateOf(person: repo.PersonRow): SpaceState {
  return {
    patientId: person.id,
    status: person.account_status,
    closedAt: person.closed_at?.toISOString() ?? null,
    eraseAfter: person.erase_after?.toISOString() ?? null,
    suspensionDeadline: person.suspension_deadline?.toISOString() ?? null,
  };
}

/**
 * Runs a life event on one space, in one transaction holding the person's row lock, with its
 * audit event: the person and their representatives go through the access gate (entity
 * 'Account', action 'manage'; a closed space still lets its owner act on it), operators and the
 * system are recorded directly (operators never pass the gate: it keeps them off health data).
 */
export async function inLifeEvent<T>(
  ctx: Ctx,
  actor: LifecycleActor,
  patientId: string,
  operation: string,
  details: Record<string, unknown>,
  fn: (tx: Ctx, person: repo.PersonRow) => Promise<T>,
): Promise<T> {
  if (actor.kind === 'patient' || actor.kind === 'representative') {
    return guarded(ctx, async (tx) => {
      await requireAccess(tx, actor, {
        patientId,
        action: 'manage',
        entity: { type: ACCOUNT_ENTITY, id: patientId },
        details: { operation, ...details },
      });
      const person = await repo.lockPerson(tx.db, patientId);
      if (!person) throw notFound();
      return fn(tx, person);
    });
  }
  return ctx.rootDb.transaction().execute(async (trx) => {
    const tx: Ctx = { ...ctx, db: trx };
    const person = await repo.lockPerson(trx, patientId);
    if (!person) throw notFound('No such person');
    const result = await fn(tx, person);
    await recordAuditEvent(trx, {
      patientId,
      recordedAt: ctx.clock.now(),
      actor: auditActorOf(actor),
      action: 'manage',
      entity: { type: ACCOUNT_ENTITY, id: patientId },
      outcome: 'success',
      basis: actor.kind === 'system' ? 'system' : 'operator',
      reason: null,
      requestId: ctx.requestId ?? null,
      details: { operation, ...details },
    });
    return result;
  });
}

export function conflict(message: string): AppError {
  return new AppError('conflict', message);
}

/**
 * Opens every pending space whose opposition window has passed (the scheduled job
 * `accounts.open-due-spaces`): the record already kept for that person (documents pushed by
 * professionals in the meantime) is simply there, under the same patient id. Batches of
 * `batchSize`, each in its own transaction, rows locked and skipped by a concurrent run;
 * idempotent (a second run finds nothing). Opposed persons stay opposed.
 * @example const { opened } = await openDueSpaces(ctx);
 */
export async function openDueSpaces(
  ctx: Ctx,
  options: { batchSize?: number } = {},
): Promise<{ opened: number }> {
  const batchSize = Math.max(1, options.batchSize ?? 1000);
  let opened = 0;
  for (;;) {
    const now = ctx.clock.now();
    const n = await ctx.rootDb.transaction().execute(async (trx) => {
      const ids = await repo.lockDueOpenings(trx, now, batchSize);
      await repo.openSpaces(trx, ids, now);
      for (const patientId of ids) {
        await recordAuditEvent(trx, {
          patientId,
          recordedAt: now,
          actor: auditActorOf(SYSTEM_ACTOR),
          action: 'manage',
          entity: { type: ACCOUNT_ENTITY, id: patientId },
          outcome: 'success',
          basis: 'system',
          reason: null,
          requestId: null,
          details: { operation: 'open', why: 'no opposition within the window' },
        });
      }
      return ids.length;
    });
    opened += n;
    if (n < batchSize) break;
  }
  if (opened > 0) ctx.log.info({ opened }, 'spaces opened after the opposition window');
  return { opened };
}
