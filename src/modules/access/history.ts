import { AppError, invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { uuidv7 } from '../../platform/ids.ts';
import {
  ACTOR_KINDS_BY_TAB,
  listDisputes,
  findPatientAuditEvent,
  listPatientAuditEvents,
  openDispute,
  presentHistoryEntry,
  type ActorLookups,
  type Dispute,
  type HistoryEntry,
  type HistoryTab,
} from '../audit/index.ts';
import { IDNPS_SYSTEM, idnpsFromRpps, professionByCode } from '../identity/index.ts';
import { actorId, type Actor } from './actor.ts';
import { guarded, recordDenial, requireAccess } from './gate.ts';

/**
 * The activity history of a record: who did what on it, in what role, on what basis — in three
 * tabs, by date, paged, downloadable — and the disputes its owner opened ("report this access").
 * Reading it is itself an access to the record, decided and audited like any other.
 */

export interface HistoryFilter {
  tab?: HistoryTab;
  from?: Date;
  to?: Date;
}

/** The largest download; beyond it, ask for a narrower period. */
export const MAX_HISTORY_EXPORT = 100_000;

const lookups: ActorLookups = {
  professionLabel: (code) => professionByCode(code)?.label,
  professionalIdentifier: (rpps) =>
    /^\d{11}$/.test(rpps) ? { system: IDNPS_SYSTEM, value: idnpsFromRpps(rpps) } : undefined,
};

function filterQuery(patientId: string, filter: HistoryFilter) {
  return {
    patientId,
    ...(filter.tab ? { actorKinds: ACTOR_KINDS_BY_TAB[filter.tab] } : {}),
    ...(filter.from ? { from: filter.from } : {}),
    ...(filter.to ? { to: filter.to } : {}),
  };
}

/**
 * One page of the history, newest first; `nextCursor` continues it.
 * @example await listRecordHistory(ctx, actor, patientId, { tab: 'professionals', limit: 50 })
 */
export async function listRecordHistory(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  query: HistoryFilter & { limit: number; cursor?: string },
): Promise<{ items: HistoryEntry[]; nextCursor: string | null }> {
  if (query.cursor !== undefined && !/^\d{1,19}$/.test(query.cursor))
    throw invalid('The page cursor is not valid', 'cursor');
  return guarded(ctx, async (tx) => {
    await requireAccess(tx, actor, { patientId, action: 'read', entity: { type: 'AuditEvent' } });
    const rows = await listPatientAuditEvents(tx.db, {
      ...filterQuery(patientId, query),
      limit: query.limit + 1,
      ...(query.cursor ? { beforeSeq: query.cursor } : {}),
    });
    const items = rows.slice(0, query.limit).map((e) => presentHistoryEntry(e, patientId, lookups));
    return { items, nextCursor: rows.length > query.limit ? (items.at(-1)?.seq ?? null) : null };
  });
}

/**
 * Every entry matching the filter, newest first, for a download (audited as a read naming the format).
 * @example const entries = await exportRecordHistory(ctx, actor, patientId, { tab: 'apps' }, 'csv');
 */
export async function exportRecordHistory(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  filter: HistoryFilter,
  format: 'csv' | 'fhir',
): Promise<HistoryEntry[]> {
  return guarded(ctx, async (tx) => {
    await requireAccess(tx, actor, {
      patientId,
      action: 'read',
      entity: { type: 'AuditEvent' },
      details: { export: format },
    });
    const entries: HistoryEntry[] = [];
    const page = 5000;
    let beforeSeq: string | undefined;
    for (;;) {
      const rows = await listPatientAuditEvents(tx.db, {
        ...filterQuery(patientId, filter),
        limit: page,
        ...(beforeSeq ? { beforeSeq } : {}),
      });
      for (const e of rows) entries.push(presentHistoryEntry(e, patientId, lookups));
      if (entries.length > MAX_HISTORY_EXPORT)
        throw invalid(`More than ${MAX_HISTORY_EXPORT} entries: choose a shorter period`, 'from');
      if (rows.length < page) return entries;
      beforeSeq = rows.at(-1)?.seq;
    }
  });
}

/**
 * "Report this access": opens a dispute on an event of the record. 404 when the event is not on
 * this record (or the actor may not act on it); 409 when it is already reported and pending.
 * @example await reportAccess(ctx, actor, patientId, eventId, 'I do not know this doctor');
 */
export async function reportAccess(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  eventId: string,
  comment: string,
): Promise<Dispute> {
  // An event that is not on this record is answered like any hidden item: 404, and the attempt is
  // recorded as a denial (it cannot be filed on the record it names, which the caller may not know).
  const onRecord =
    /^[0-9a-f-]{36}$/.test(eventId) && (await findPatientAuditEvent(ctx.rootDb, patientId, eventId));
  if (!onRecord) {
    await recordDenial(
      ctx,
      actor,
      {
        patientId: null,
        action: 'create',
        entity: { type: 'Dispute' },
        details: { eventId: eventId.slice(0, 64) },
      },
      'no such event on this record',
    );
    throw new AppError('not_found', 'Not found');
  }
  return guarded(ctx, async (tx) => {
    const id = uuidv7(tx.clock.now().getTime());
    await requireAccess(tx, actor, {
      patientId,
      action: 'create',
      entity: { type: 'Dispute', id },
      details: { eventId },
    });
    return openDispute(tx.db, {
      id,
      patientId,
      eventId,
      comment,
      by: { kind: actor.kind, id: actorId(actor) },
      now: tx.clock.now(),
    });
  });
}

/**
 * The disputes opened on the record, newest first, each with its status history.
 * @example const disputes = await listRecordDisputes(ctx, actor, patientId);
 */
export async function listRecordDisputes(ctx: Ctx, actor: Actor, patientId: string): Promise<Dispute[]> {
  return guarded(ctx, async (tx) => {
    await requireAccess(tx, actor, { patientId, action: 'read', entity: { type: 'Dispute' } });
    return listDisputes(tx.db, patientId);
  });
}
