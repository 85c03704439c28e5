import type { Ctx } from '../../platform/context.ts';
import { deriveKey, keyedHash } from '../../platform/crypto.ts';
import { ACCOUNT_ENTITY } from '../access/index.ts';
import { forgetAuditChains, recordAuditEvent } from '../audit/index.ts';
import { auditActorOf, SYSTEM_ACTOR } from './lifecycle.ts';
import * as repo from './lifecycle.repository.ts';
import {
  blobKeysOf,
  deletePersonRows,
  erasurePlan,
  pendingBlobs,
  queueBlobs,
  unqueueBlob,
  type ErasurePlan,
} from './erasure.repository.ts';

/**
 * Erasure of a closed space whose archive time is over (10 years, or 3 months after a request):
 * every row of the person in every table (found in the catalogue, children first, the patients
 * row last), their audit events and chain, their files, and with the rows the wrapped keys of
 * their documents and letters — crypto-shredding: a copy of a file kept elsewhere can no longer
 * be decrypted. One system audit event without the person's id remains ("a space was erased",
 * with a keyed, non-reversible reference an operator can recompute from a known patient id).
 *
 * Order, for crash safety: the rows go first, in one transaction that also queues the file keys
 * in `erasure_pending_blobs`; the files are deleted after the commit and unqueued one by one. A
 * crash in between leaves queued keys, deleted by the next run of the job; files never outlive
 * their rows unnoticed, and no row ever points to a deleted file.
 */

/** Blob prefixes that hold a person's files (documents, letters), besides the keys found in rows. */
const PERSON_PREFIXES = ['docs/', 'letters/'];

/**
 * The reference of an erased space in the trail: keyed hash of the patient id (not reversible).
 * @example erasureReference(ctx, patientId) // 'c0ffee…' (32 hex digits)
 */
export function erasureReference(ctx: Pick<Ctx, 'masterKey'>, patientId: string): string {
  return keyedHash(deriveKey(ctx.masterKey, 'erasure-reference'), patientId).toString('hex').slice(0, 32);
}

/**
 * Erases one space if it is closed and due (else does nothing and says so).
 * @example const { erased } = await eraseSpace(ctx, patientId);
 */
export async function eraseSpace(
  ctx: Ctx,
  patientId: string,
  plan?: ErasurePlan,
): Promise<{ erased: boolean; reference?: string; rows?: number; files?: number }> {
  const thePlan = plan ?? (await erasurePlan(ctx.rootDb));
  const done = await ctx.rootDb.transaction().execute(async (trx) => {
    const now = ctx.clock.now();
    const person = await repo.lockPerson(trx, patientId);
    if (!person || person.account_status !== 'closed' || !person.erase_after || person.erase_after > now)
      return undefined;
    const keys = new Set(await blobKeysOf(trx, thePlan, patientId));
    for (const prefix of PERSON_PREFIXES) {
      for await (const blob of ctx.blobs.list(`${prefix}${patientId}/`)) keys.add(blob.key);
    }
    const counts = await deletePersonRows(trx, thePlan, patientId);
    await queueBlobs(trx, [...keys], now);
    const reference = erasureReference(ctx, patientId);
    const rows = Object.values(counts).reduce((a, b) => a + b, 0);
    await recordAuditEvent(trx, {
      patientId: null,
      recordedAt: now,
      actor: auditActorOf(SYSTEM_ACTOR),
      action: 'erase',
      entity: { type: ACCOUNT_ENTITY, id: null },
      outcome: 'success',
      basis: 'system',
      reason: 'a space was erased',
      requestId: null,
      details: { reference, rows, tables: counts, files: keys.size },
    });
    return { reference, rows, files: keys.size };
  });
  if (!done) return { erased: false };
  // The checkpoints stop vouching for the person's chain (best effort: verify names it otherwise).
  await forgetAuditChains(ctx, [patientId]).catch((err: unknown) =>
    ctx.log.error({ err }, 'erased chain still in the audit checkpoints'),
  );
  await deleteQueuedBlobs(ctx);
  return { erased: true, ...done };
}

/** Deletes the files queued by erasures (after their commit); returns how many. */
export async function deleteQueuedBlobs(ctx: Ctx): Promise<number> {
  let deleted = 0;
  for (;;) {
    const keys = await pendingBlobs(ctx.rootDb, 500);
    for (const key of keys) {
      await ctx.blobs.delete(key);
      await unqueueBlob(ctx.rootDb, key);
      deleted++;
    }
    if (keys.length < 500) return deleted;
  }
}

/**
 * Erases every closed space past its `erase_after` (job `accounts.erase-due`), after deleting the
 * files a crashed run left queued. Idempotent; one failing space does not stop the others.
 * @example const { erased } = await eraseDueSpaces(ctx);
 */
export async function eraseDueSpaces(
  ctx: Ctx,
  options: { batchSize?: number } = {},
): Promise<{ erased: number; failed: number }> {
  const batchSize = Math.max(1, options.batchSize ?? 100);
  await deleteQueuedBlobs(ctx);
  const plan = await erasurePlan(ctx.rootDb);
  const skip = new Set<string>();
  let erased = 0;
  let failed = 0;
  for (;;) {
    const ids = (await repo.dueErasures(ctx.rootDb, ctx.clock.now(), batchSize + skip.size)).filter(
      (id) => !skip.has(id),
    );
    if (ids.length === 0) break;
    for (const id of ids) {
      try {
        if ((await eraseSpace(ctx, id, plan)).erased) erased++;
        else skip.add(id); // changed meanwhile (re-opened): not due any more
      } catch (err) {
        skip.add(id);
        failed++;
        ctx.log.error({ err, reference: erasureReference(ctx, id) }, 'space erasure failed');
      }
    }
  }
  if (erased > 0) ctx.log.info({ erased }, 'closed spaces erased');
  return { erased, failed };
}
