import { invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { uuidv7 } from '../../platform/ids.ts';
import type { OperatorActor } from '../access/index.ts';
import { closeSpace } from './closure.ts';
import {
  addWeeks,
  conflict,
  inLifeEvent,
  stateOf,
  SUSPENSION_WEEKS,
  SYSTEM_ACTOR,
  type SpaceState,
} from './lifecycle.ts';
import * as repo from './lifecycle.repository.ts';
import { queueNotice } from './notices.ts';

/**
 * Suspension by an operator (fraud, DOMAIN §2): the space is frozen for everyone but the system,
 * the person gets a notice, and without an answer the space is closed after 6 weeks (then archived
 * like any closed space). The operator may lift it before.
 */

export const MAX_REASON = 500;

/**
 * @example await suspendSpace(ctx, operatorActor('alice'), patientId, 'identity theft reported');
 */
export async function suspendSpace(
  ctx: Ctx,
  operator: OperatorActor,
  patientId: string,
  reason: string,
): Promise<SpaceState> {
  const why = reason.trim();
  if (!why) throw invalid('A reason is required (--reason "…")', 'reason');
  if (why.length > MAX_REASON) throw invalid(`The reason is limited to ${MAX_REASON} characters`, 'reason');
  return inLifeEvent(ctx, operator, patientId, 'suspend', { reason: why }, async (tx, person) => {
    if (person.account_status !== 'open')
      throw conflict(`Only an open space can be suspended (this one is ${person.account_status})`);
    const now = ctx.clock.now();
    const deadline = addWeeks(now, SUSPENSION_WEEKS);
    await repo.updatePerson(tx.db, patientId, {
      account_status: 'suspended',
      status_changed_at: now,
      suspension_deadline: deadline,
      updated_at: now,
    });
    await repo.insertSuspension(tx.db, {
      patient_id: patientId,
      id: uuidv7(now.getTime()),
      reason: why,
      operator_id: operator.operatorId,
      suspended_at: now,
      deadline,
    });
    await repo.revokeSessions(tx.db, patientId, now);
    await queueNotice(tx, tx.db, { patientId, kind: 'suspension' });
    return stateOf({ ...person, account_status: 'suspended', suspension_deadline: deadline });
  });
}

/** Lifts a suspension: the space is open again. */
export async function unsuspendSpace(
  ctx: Ctx,
  operator: OperatorActor,
  patientId: string,
): Promise<SpaceState> {
  return inLifeEvent(ctx, operator, patientId, 'unsuspend', {}, async (tx, person) => {
    if (person.account_status !== 'suspended')
      throw conflict(`This space is not suspended (it is ${person.account_status})`);
    const now = ctx.clock.now();
    await repo.updatePerson(tx.db, patientId, {
      account_status: 'open',
      status_changed_at: now,
      suspension_deadline: null,
      updated_at: now,
    });
    await repo.endSuspension(tx.db, patientId, { at: now, outcome: 'lifted', by: operator.operatorId });
    return stateOf({ ...person, account_status: 'open', suspension_deadline: null });
  });
}

/**
 * Closes the suspended spaces whose 6 weeks have passed (job `accounts.close-suspended`); each
 * closure is archived 10 years like any other. Idempotent.
 * @example const { closed } = await closeDueSuspensions(ctx);
 */
export async function closeDueSuspensions(
  ctx: Ctx,
  options: { batchSize?: number } = {},
): Promise<{ closed: number }> {
  const batchSize = Math.max(1, options.batchSize ?? 500);
  let closed = 0;
  for (;;) {
    const ids = await repo.dueSuspensions(ctx.rootDb, ctx.clock.now(), batchSize);
    for (const id of ids) {
      const state = await closeSpace(ctx, SYSTEM_ACTOR, id);
      if (state.status === 'closed') closed++;
    }
    if (ids.length < batchSize) break;
  }
  return { closed };
}
