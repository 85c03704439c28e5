import type { Ctx } from '../../platform/context.ts';
import type { Link } from './chain.repository.ts';
import { readAuditCheckpoints, writeAuditCheckpoint } from './checkpoint.ts';

/**
 * Forgets erased chains in the signed checkpoints: when a person's space is erased (DOMAIN §2),
 * their audit events and chain head are deleted with every other row of theirs, and the
 * checkpoints must stop vouching for that chain (or verification would report it deleted, and the
 * checkpoints would keep the person's id). Writes one full checkpoint of every other claim, then
 * removes the files it merged — like compaction, so a checkpoint written meanwhile is kept.
 * Needs the master key: nobody can make a chain vanish from the checkpoints without it.
 * @example await forgetAuditChains(ctx, [patientId]);
 */
export async function forgetAuditChains(
  ctx: Ctx,
  chainKeys: readonly string[],
): Promise<{ forgotten: number }> {
  const set = await readAuditCheckpoints(ctx);
  const forget = new Set(chainKeys);
  const forgotten = [...set.claims.keys()].filter((k) => forget.has(k)).length;
  if (forgotten === 0) return { forgotten: 0 };
  const heads = new Map<string, Link>();
  for (const [chain, claim] of set.claims) {
    if (!forget.has(chain)) heads.set(chain, { index: claim.index, hash: claim.hash });
  }
  await writeAuditCheckpoint(ctx, heads, 'full');
  for (const old of set.validKeys) await ctx.blobs.delete(old);
  return { forgotten };
}
