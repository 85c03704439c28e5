import { invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { listPatientAuditEvents, type AuditEvent } from '../audit/index.ts';
import type { Actor } from './actor.ts';
import { guarded, requireAccess } from './gate.ts';

/**
 * The activity history of a record: who did what on it, on what basis. Reading it is itself an
 * access to the record, decided and audited like any other.
 */
export async function listRecordHistory(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  query: { from?: Date; to?: Date; limit: number; cursor?: string },
): Promise<{ items: Array<AuditEvent & { seq: string }>; nextCursor: string | null }> {
  if (query.cursor !== undefined && !/^\d{1,19}$/.test(query.cursor))
    throw invalid('The page cursor is not valid', 'cursor');
  return guarded(ctx, async (tx) => {
    await requireAccess(tx, actor, { patientId, action: 'read', entity: { type: 'AuditEvent' } });
    const rows = await listPatientAuditEvents(tx.db, {
      patientId,
      limit: query.limit + 1,
      ...(query.from ? { from: query.from } : {}),
      ...(query.to ? { to: query.to } : {}),
      ...(query.cursor ? { beforeSeq: query.cursor } : {}),
    });
    const items = rows.slice(0, query.limit);
    return { items, nextCursor: rows.length > query.limit ? (items.at(-1)?.seq ?? null) : null };
  });
}
