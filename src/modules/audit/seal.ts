import type { Ctx } from '../../platform/context.ts';
import { chainKeyOf, genesisHash, linkHash } from './chain.ts';
import {
  listChainsWithUnsealed,
  listUnsealed,
  lockHead,
  setLinks,
  updateHead,
  type Link,
} from './chain.repository.ts';
import { compactAuditCheckpoints, writeAuditCheckpoint } from './checkpoint.ts';

/**
 * The sealer. Events are inserted unchained by the action's transaction, so requests never wait on
 * a chain head; the sealer then gives committed events their place in their patient's chain, in the
 * order it sees them (by seq), in short transactions holding that chain's head row lock — two
 * sealers (two nodes, or a CLI and a server) never interleave on one chain.
 */

export interface SealResult {
  sealed: number;
  /** The heads this call advanced, by chain key (patient id; all-zero uuid for no patient). */
  heads: Map<string, Link>;
  /** The checkpoint written, if any. */
  checkpoint?: string;
}

async function sealChain(ctx: Ctx, chainKey: string, max: number): Promise<{ sealed: number; head?: Link }> {
  return ctx.rootDb.transaction().execute(async (tx) => {
    const now = ctx.clock.now();
    const head = await lockHead(tx, chainKey, genesisHash(chainKey), now);
    const events = await listUnsealed(tx, chainKey, max);
    if (events.length === 0) return { sealed: 0 };
    let previous = head.hash;
    let index = head.index;
    const links = events.map((event) => {
      index++;
      const hash = linkHash(previous, event, index);
      previous = hash;
      return { id: event.id, index, hash };
    });
    const sealed = await setLinks(tx, chainKey, links);
    // We hold the head lock, so only a writer that ignores it could have sealed these meanwhile.
    if (sealed !== links.length) throw new Error(`audit chain ${chainKey}: events changed while sealing`);
    const last = { index, hash: previous };
    await updateHead(tx, chainKey, last, now);
    return { sealed, head: last };
  });
}

/**
 * Seals committed unsealed events, at most `limit` of them, `batchSize` per transaction, and (unless
 * `checkpoint: false`) writes a signed checkpoint of the heads it advanced.
 * @example const { sealed } = await sealAuditEvents(ctx); // tests: deterministic sealing
 */
export async function sealAuditEvents(
  ctx: Ctx,
  options: { limit?: number; batchSize?: number; checkpoint?: boolean } = {},
): Promise<SealResult> {
  const batchSize = Math.max(1, options.batchSize ?? 1000);
  let remaining = options.limit ?? 100_000;
  const heads = new Map<string, Link>();
  let sealed = 0;
  while (remaining > 0) {
    const chains = await listChainsWithUnsealed(ctx.rootDb, 256);
    let progressed = 0;
    for (const patientId of chains) {
      if (remaining <= 0) break;
      const key = chainKeyOf(patientId);
      const done = await sealChain(ctx, key, Math.min(batchSize, remaining));
      if (done.head) heads.set(key, done.head);
      progressed += done.sealed;
      remaining -= done.sealed;
    }
    sealed += progressed;
    if (progressed === 0) break; // nothing left, or another sealer took it
  }
  const result: SealResult = { sealed, heads };
  if (options.checkpoint !== false) {
    const key = await writeAuditCheckpoint(ctx, heads);
    if (key) result.checkpoint = key;
  }
  return result;
}

export interface AuditSealer {
  /** Stops the timer, waits for a running pass, seals what is left and writes a last checkpoint. */
  stop(): Promise<void>;
}

/**
 * Runs the sealer in the background: a pass every `intervalMs`, a checkpoint of the advanced heads
 * at most every `checkpointIntervalMs`, and a compaction of the checkpoints every `compactEvery`
 * checkpoints.
 * @example const sealer = startAuditSealer(ctx); … await sealer.stop();
 */
export function startAuditSealer(
  ctx: Ctx,
  options: { intervalMs?: number; checkpointIntervalMs?: number; compactEvery?: number } = {},
): AuditSealer {
  const intervalMs = options.intervalMs ?? 1000;
  const checkpointIntervalMs = options.checkpointIntervalMs ?? 10_000;
  const compactEvery = options.compactEvery ?? 100;
  const pending = new Map<string, Link>();
  let lastCheckpoint = performance.now();
  let written = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const seal = async (): Promise<void> => {
    const { heads } = await sealAuditEvents(ctx, { checkpoint: false });
    for (const [key, link] of heads) pending.set(key, link); // heads only grow: the later one wins
  };
  const flush = async (): Promise<void> => {
    lastCheckpoint = performance.now();
    if (pending.size === 0) return;
    const heads = new Map(pending);
    pending.clear();
    try {
      await writeAuditCheckpoint(ctx, heads);
    } catch (err) {
      for (const [key, link] of heads) if (!pending.has(key)) pending.set(key, link);
      throw err;
    }
    if (++written % compactEvery === 0) await compactAuditCheckpoints(ctx);
  };
  const pass = async (): Promise<void> => {
    await seal();
    if (performance.now() - lastCheckpoint >= checkpointIntervalMs) await flush();
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass()
        .catch((err: unknown) => ctx.log.error({ err }, 'audit sealing failed'))
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, intervalMs);
    timer.unref();
  };
  schedule();

  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
      try {
        await seal();
        await flush();
      } catch (err) {
        ctx.log.error({ err }, 'audit sealing failed at stop');
      }
    },
  };
}
