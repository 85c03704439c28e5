import { AppError, invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { uuidv7 } from '../../platform/ids.ts';
import {
  addMonths,
  ARCHIVE_YEARS,
  conflict,
  ERASURE_REQUEST_MONTHS,
  inLifeEvent,
  stateOf,
  type LifecycleActor,
  type SpaceState,
} from './lifecycle.ts';
import { checkProvisionalCode, issueProvisionalCode } from '../identity/index.ts';
import * as repo from './lifecycle.repository.ts';
import { normalizeMatricule, recordRefusal } from './opposition.ts';
import { queueNotice } from './notices.ts';
import { throttledByMatricule, type AttemptMeta } from './attempt-throttle.ts';

/**
 * Closure and re-opening (DOMAIN §2). A closed space is archived: kept, unreadable by
 * professionals, representatives and apps (the access decision reads the status), erased
 * 10 years later — or within 3 months when the person asks for erasure. Re-opening before the
 * erasure restores everything as it was.
 */

/**
 * Closes the space (or, on a space already closed, records a request for erasure). Every session
 * is revoked; a notice tells the person. `actor`: the person or their legal representative, an
 * operator, or the system (a suspension that ran out).
 * @example await closeSpace(ctx, actor, actor.patientId, { eraseNow: true });
 */
export async function closeSpace(
  ctx: Ctx,
  actor: LifecycleActor,
  patientId: string,
  options: { eraseNow?: boolean } = {},
): Promise<SpaceState> {
  const eraseNow = options.eraseNow === true;
  return inLifeEvent(ctx, actor, patientId, 'close', { eraseNow }, async (tx, person) => {
    const now = ctx.clock.now();
    const soon = addMonths(now, ERASURE_REQUEST_MONTHS);
    const deadline = person.suspension_deadline;
    if (actor.kind === 'system' && (person.account_status !== 'suspended' || !deadline || deadline > now)) {
      return stateOf(person); // the system only closes suspensions that ran out (lifted meanwhile: nothing to do)
    }
    if (person.account_status === 'closed') {
      // Asked again: idempotent, except that erasure may be asked now.
      if (eraseNow && (!person.erase_after || person.erase_after > soon)) {
        await repo.updatePerson(tx.db, patientId, { erase_after: soon, updated_at: now });
        const closure = await repo.findLiveClosure(tx.db, patientId);
        if (closure) await repo.markErasureRequested(tx.db, patientId, closure.id);
        return stateOf({ ...person, erase_after: soon });
      }
      return stateOf(person);
    }
    const fromSuspension = person.account_status === 'suspended';
    if (person.account_status !== 'open' && !fromSuspension) {
      throw conflict(
        person.account_status === 'pending'
          ? 'This space is not created yet: oppose its creation instead'
          : `This space cannot be closed (it is ${person.account_status})`,
      );
    }
    const eraseAfter = eraseNow ? soon : addMonths(now, ARCHIVE_YEARS * 12);
    await repo.updatePerson(tx.db, patientId, {
      account_status: 'closed',
      status_changed_at: now,
      closed_at: now,
      erase_after: eraseAfter,
      suspension_deadline: null,
      updated_at: now,
    });
    const by = actor.kind === 'operator' ? actor.operatorId : actor.kind;
    if (fromSuspension) await repo.endSuspension(tx.db, patientId, { at: now, outcome: 'closed', by });
    await repo.insertClosure(tx.db, {
      patient_id: patientId,
      id: uuidv7(now.getTime()),
      closed_at: now,
      cause: actor.kind === 'operator' ? 'operator' : actor.kind === 'system' ? 'suspension' : 'request',
      actor_kind: actor.kind,
      actor_id: actor.kind === 'operator' ? actor.operatorId : null,
      erasure_requested: eraseNow,
    });
    await repo.revokeSessions(tx.db, patientId, now);
    // The notice carries a fresh provisional code: with it the person can re-open the space online.
    const { code } = await issueProvisionalCode(tx, tx.db, patientId);
    await queueNotice(tx, tx.db, { patientId, kind: 'closure', code });
    return stateOf({
      ...person,
      account_status: 'closed',
      closed_at: now,
      erase_after: eraseAfter,
      suspension_deadline: null,
    });
  });
}

/**
 * Re-opens a closed space that is not erased yet: everything archived is there again. A space
 * closed because a suspension ran out is re-opened by an operator only.
 * @example await reopenSpace(ctx, operatorActor('alice'), patientId);
 */
export async function reopenSpace(
  ctx: Ctx,
  actor: LifecycleActor,
  patientId: string,
  options: { code?: string } = {},
): Promise<SpaceState> {
  const withCode = options.code !== undefined;
  return inLifeEvent(ctx, actor, patientId, 'reopen', { withCode }, async (tx, person) => {
    if (person.account_status !== 'closed')
      throw conflict(`This space is not closed (it is ${person.account_status})`);
    if (
      options.code !== undefined &&
      !(await checkProvisionalCode(tx, tx.db, patientId, options.code, { consume: true }))
    )
      throw invalid(NO_MATCH);
    const closure = await repo.findLiveClosure(tx.db, patientId);
    if (closure?.cause === 'suspension' && actor.kind !== 'operator') {
      throw new AppError(
        'forbidden',
        'This space was closed after a suspension: only the support service can re-open it',
      );
    }
    const now = ctx.clock.now();
    await repo.updatePerson(tx.db, patientId, {
      account_status: 'open',
      status_changed_at: now,
      closed_at: null,
      erase_after: null,
      updated_at: now,
    });
    await repo.markReopened(tx.db, patientId, now);
    await queueNotice(tx, tx.db, { patientId, kind: 'reopening' });
    return stateOf({ ...person, account_status: 'open', closed_at: null, erase_after: null });
  });
}

const NO_MATCH =
  'These details do not match a closed space, or the code is wrong. Check the closure notice you received.';

/**
 * Re-opening without a session (a closed space cannot sign in): the provisional code of the
 * closure notice (or one an operator re-issued), the matricule and the birth date. Every mismatch
 * gets the same answer; the code is used up. Throttled per matricule and IP (429 once locked).
 * @example await reopenWithCode(ctx, { code, matricule, birthDate: '1985-03-14' });
 */
export async function reopenWithCode(
  ctx: Ctx,
  input: { code: string; matricule: string; birthDate: string },
  meta: AttemptMeta = {},
): Promise<SpaceState> {
  const matricule = normalizeMatricule(input.matricule);
  return throttledByMatricule(ctx, matricule, meta, async () => {
    const person = (await repo.findPeopleByMatricule(ctx.rootDb, matricule)).find(
      (p) => p.birth_date === input.birthDate && p.account_status === 'closed',
    );
    if (
      !person ||
      !(await checkProvisionalCode(ctx, ctx.rootDb, person.id, input.code, { consume: false }))
    ) {
      await recordRefusal(ctx, 'reopen', 'no closed space matches, or wrong code');
      throw invalid(NO_MATCH);
    }
    const owner = {
      kind: 'patient' as const,
      patientId: person.id,
      display: `${person.given} ${person.family} (provisional code)`,
      sessionId: 'provisional-code',
    };
    return reopenSpace(ctx, owner, person.id, { code: input.code });
  });
}
