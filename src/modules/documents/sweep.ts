import type { Ctx } from '../../platform/context.ts';
import { existingDocumentIds } from './document.repository.ts';
import { parseBlobKey } from './document.ts';

/**
 * Removes files that have no document row: left by a crash between the file write and the commit,
 * by a failed transaction, or by a delete whose file removal failed. Files younger than the grace
 * period are left alone, since their transaction may still be running (on another API node).
 * @example const { removed } = await sweepOrphanBlobs(ctx, { graceSeconds: 3600 });
 */
export async function sweepOrphanBlobs(
  ctx: Ctx,
  options: { graceSeconds: number },
): Promise<{ scanned: number; removed: number }> {
  const cutoff = ctx.clock.now().getTime() - options.graceSeconds * 1000;
  let scanned = 0;
  let removed = 0;
  let batch: Array<{ key: string; patientId: string; documentId: string }> = [];
  const flush = async (): Promise<void> => {
    const byPatient = new Map<string, typeof batch>();
    for (const b of batch) byPatient.set(b.patientId, [...(byPatient.get(b.patientId) ?? []), b]);
    for (const [patientId, items] of byPatient) {
      const existing = await existingDocumentIds(
        ctx.rootDb,
        patientId,
        items.map((i) => i.documentId),
      );
      for (const item of items) {
        if (!existing.has(item.documentId)) {
          await ctx.blobs.delete(item.key);
          removed++;
        }
      }
    }
    batch = [];
  };
  for await (const blob of ctx.blobs.list('docs/')) {
    scanned++;
    const parsed = parseBlobKey(blob.key);
    if (!parsed || blob.modifiedAt.getTime() > cutoff) continue;
    batch.push({ key: blob.key, ...parsed });
    if (batch.length >= 500) await flush();
  }
  await flush();
  if (removed > 0) ctx.log.info({ scanned, removed }, 'orphan blobs swept');
  return { scanned, removed };
}
