import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Ctx } from '../../platform/context.ts';
import { deriveKey, type MasterKey } from '../../platform/crypto.ts';
import { canonicalJson } from './chain.ts';
import type { Link } from './chain.repository.ts';

/**
 * Signed checkpoints of the chain heads, kept outside the database (in the blob store, under
 * `audit/checkpoints/`, shared by every node). Someone who can rewrite the database can recompute a
 * whole chain, but cannot sign a checkpoint without the master key: verify compares the heads the
 * checkpoints vouch for with the chains in the database.
 *
 * Each seal writes a delta (the heads it advanced); compaction merges many deltas into one full
 * checkpoint, then removes the merged files. The claim that counts for a chain is the highest one.
 */

export const CHECKPOINT_PREFIX = 'audit/checkpoints/';

const headSchema = z.object({ index: z.number().int().min(0), hash: z.string().regex(/^[0-9a-f]{64}$/) });
const checkpointSchema = z.object({
  version: z.literal(1),
  kind: z.enum(['delta', 'full']),
  time: z.iso.datetime(),
  keyId: z.string(),
  headsDigest: z.string().regex(/^[0-9a-f]{64}$/),
  heads: z.record(z.string(), headSchema),
  signature: z.string().regex(/^[0-9a-f]{64}$/),
});

export type Checkpoint = z.infer<typeof checkpointSchema>;

/** What the checkpoints vouch for, per chain: the highest head, and where it comes from. */
export interface Claim {
  index: number;
  hash: Buffer;
  file: string;
  time: string;
}

export interface CheckpointSet {
  claims: Map<string, Claim>;
  files: number;
  valid: number;
  latest: string | null;
  /** Files that are not genuine: each makes verification fail. */
  problems: string[];
  /** Files signed with another master key (after a rotation): ignored. */
  warnings: string[];
  /** Keys of the valid files, for compaction. */
  validKeys: string[];
}

/**
 * SHA-256 over the sorted `chain:index:hash` lines: a short fingerprint of a set of heads.
 * @example headsDigest({}) // 'e3b0c442…' (SHA-256 of nothing)
 */
export function headsDigest(heads: Record<string, { index: number; hash: string }>): string {
  const digest = createHash('sha256');
  for (const key of Object.keys(heads).sort()) {
    const head = heads[key];
    if (head) digest.update(`${key}:${head.index}:${head.hash}\n`);
  }
  return digest.digest('hex');
}

function signingKey(master: MasterKey): Buffer {
  return deriveKey(master, 'audit-checkpoint');
}

function signatureOf(master: MasterKey, body: Omit<Checkpoint, 'signature'>): string {
  return createHmac('sha256', signingKey(master)).update(canonicalJson(body)).digest('hex');
}

/**
 * Builds and signs a checkpoint of these heads.
 * @example const cp = signCheckpoint(ctx.masterKey, 'delta', new Date(), heads);
 */
export function signCheckpoint(
  master: MasterKey,
  kind: Checkpoint['kind'],
  time: Date,
  links: ReadonlyMap<string, Link>,
): Checkpoint {
  const heads: Checkpoint['heads'] = {};
  for (const [key, link] of [...links].sort(([a], [b]) => (a < b ? -1 : 1))) {
    heads[key] = { index: link.index, hash: link.hash.toString('hex') };
  }
  const body = {
    version: 1 as const,
    kind,
    time: time.toISOString(),
    keyId: master.id,
    headsDigest: headsDigest(heads),
    heads,
  };
  return { ...body, signature: signatureOf(master, body) };
}

/**
 * Parses a checkpoint file and checks its signature and digest.
 * @example checkCheckpoint(ctx.masterKey, bytes) // { status: 'valid', checkpoint }
 */
export function checkCheckpoint(
  master: MasterKey,
  bytes: Uint8Array,
):
  | { status: 'valid'; checkpoint: Checkpoint }
  | { status: 'other-key'; keyId: string }
  | { status: 'invalid'; reason: string } {
  let parsed: Checkpoint;
  try {
    parsed = checkpointSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')));
  } catch {
    return { status: 'invalid', reason: 'not a checkpoint (unreadable or malformed)' };
  }
  if (parsed.keyId !== master.id) return { status: 'other-key', keyId: parsed.keyId };
  const { signature, ...body } = parsed;
  const expected = Buffer.from(signatureOf(master, body), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    return { status: 'invalid', reason: 'signature does not match' };
  }
  if (headsDigest(parsed.heads) !== parsed.headsDigest) {
    return { status: 'invalid', reason: 'heads digest does not match' };
  }
  return { status: 'valid', checkpoint: parsed };
}

function keyFor(time: Date, kind: Checkpoint['kind']): string {
  const stamp = time.toISOString().replaceAll(':', '');
  return `${CHECKPOINT_PREFIX}${stamp}-${kind}-${randomBytes(6).toString('hex')}.json`;
}

/**
 * Writes a signed checkpoint of these heads to the blob store; returns its key (undefined when
 * there is nothing to vouch for).
 * @example await writeAuditCheckpoint(ctx, result.heads);
 */
export async function writeAuditCheckpoint(
  ctx: Ctx,
  heads: ReadonlyMap<string, Link>,
  kind: Checkpoint['kind'] = 'delta',
): Promise<string | undefined> {
  if (heads.size === 0) return undefined;
  const now = ctx.clock.now();
  const checkpoint = signCheckpoint(ctx.masterKey, kind, now, heads);
  const key = keyFor(now, kind);
  await ctx.blobs.put(key, Buffer.from(JSON.stringify(checkpoint) + '\n', 'utf8'));
  return key;
}

/**
 * Reads every checkpoint and merges their claims (the highest head per chain). Two genuine
 * checkpoints that disagree on the same link are a problem too.
 * @example const { claims, problems } = await readAuditCheckpoints(ctx);
 */
export async function readAuditCheckpoints(ctx: Ctx): Promise<CheckpointSet> {
  const set: CheckpointSet = {
    claims: new Map(),
    files: 0,
    valid: 0,
    latest: null,
    problems: [],
    warnings: [],
    validKeys: [],
  };
  const keys: string[] = [];
  for await (const blob of ctx.blobs.list(CHECKPOINT_PREFIX)) keys.push(blob.key);
  keys.sort();
  for (const key of keys) {
    const file = key.slice(CHECKPOINT_PREFIX.length);
    let bytes: Buffer;
    try {
      bytes = await ctx.blobs.get(key);
    } catch {
      continue; // removed by a concurrent compaction: its claims are in the merged file
    }
    set.files++;
    const checked = checkCheckpoint(ctx.masterKey, bytes);
    if (checked.status === 'other-key') {
      set.warnings.push(`checkpoint ${file}: signed with another master key (${checked.keyId}), not checked`);
      continue;
    }
    if (checked.status === 'invalid') {
      set.problems.push(`checkpoint ${file}: ${checked.reason}`);
      continue;
    }
    const cp = checked.checkpoint;
    set.valid++;
    set.validKeys.push(key);
    if (set.latest === null || cp.time > set.latest) set.latest = cp.time;
    for (const [chain, head] of Object.entries(cp.heads)) {
      const hash = Buffer.from(head.hash, 'hex');
      const known = set.claims.get(chain);
      if (known && known.index === head.index && !known.hash.equals(hash)) {
        set.problems.push(
          `checkpoints ${known.file} and ${file} disagree on link ${head.index} of chain ${chain}`,
        );
      }
      if (!known || head.index > known.index) {
        set.claims.set(chain, { index: head.index, hash, file, time: cp.time });
      }
    }
  }
  return set;
}

/**
 * Merges every genuine checkpoint into one full checkpoint, then removes the merged files. Files
 * that are not genuine are left in place (they are evidence). Safe to run on several nodes at once:
 * a file is removed only after a checkpoint holding its claims is written.
 * @example const { merged } = await compactAuditCheckpoints(ctx);
 */
export async function compactAuditCheckpoints(ctx: Ctx): Promise<{ merged: number; key?: string }> {
  const set = await readAuditCheckpoints(ctx);
  if (set.validKeys.length < 2) return { merged: 0 };
  const heads = new Map<string, Link>();
  for (const [chain, claim] of set.claims) heads.set(chain, { index: claim.index, hash: claim.hash });
  const key = await writeAuditCheckpoint(ctx, heads, 'full');
  for (const old of set.validKeys) await ctx.blobs.delete(old);
  return { merged: set.validKeys.length, ...(key ? { key } : {}) };
}
