import type { Ctx } from '../../platform/context.ts';
import { genesisHash, linkHash, NO_PATIENT_CHAIN, patientOfChain } from './chain.ts';
import {
  countSealedByHeads,
  findHeads,
  findUnsealedBefore,
  listHeadsPage,
  listSealedNoPatientPage,
  listSealedPage,
  type Head,
  type Link,
  type SealedEvent,
} from './chain.repository.ts';
import { readAuditCheckpoints, type Claim } from './checkpoint.ts';

/**
 * Verification of every chain: recomputes each link, checks that chain indexes are contiguous and
 * that each head matches its chain's last event, and compares the chains with the signed
 * checkpoints. Reads only; seals nothing. Names the first broken link of each chain.
 */

export interface ChainBreak {
  /** The chain's patient (null: the chain of events without a patient). */
  patientId: string | null;
  /** The first link that does not hold (null when the whole chain is missing). */
  chainIndex: number | null;
  /** The event at (or right after) that link, when there is one. */
  eventId: string | null;
  problem: string;
}

export interface VerifyReport {
  /** True when every chain and every checkpoint holds. */
  ok: boolean;
  chains: number;
  events: number;
  breaks: ChainBreak[];
  checkpoints: {
    files: number;
    valid: number;
    latest: string | null;
    problems: string[];
    warnings: string[];
  };
  /** Events the sealer should have sealed by now (recorded before `olderThan`). */
  unsealed: {
    olderThan: Date;
    count: number;
    oldest: Array<{ id: string; patientId: string | null; recordedAt: Date }>;
  };
}

/** Walks one chain, event by event, and keeps its first break. */
class ChainWalk {
  readonly key: string;
  readonly head: Link | undefined;
  readonly claim: Claim | undefined;
  broken: ChainBreak | undefined;
  last: Link;
  lastEventId: string | null = null;

  constructor(key: string, head: Link | undefined, claim: Claim | undefined) {
    this.key = key;
    this.head = head;
    this.claim = claim;
    this.last = { index: 0, hash: genesisHash(key) };
  }

  private fail(chainIndex: number | null, eventId: string | null, problem: string): void {
    this.broken ??= { patientId: patientOfChain(this.key), chainIndex, eventId, problem };
  }

  feed(event: SealedEvent): void {
    if (this.broken) return;
    const index = event.chainIndex;
    if (index === this.last.index) {
      return this.fail(index, event.id, `two events hold chain_index ${index} (one was inserted)`);
    }
    if (index !== this.last.index + 1) {
      const missing =
        index - 1 === this.last.index + 1 ? `${index - 1}` : `${this.last.index + 1}–${index - 1}`;
      return this.fail(this.last.index + 1, event.id, `chain_index ${missing} missing (event deleted)`);
    }
    if (this.head && index > this.head.index) {
      return this.fail(
        index,
        event.id,
        `event beyond the chain head (${this.head.index}): inserted or head rolled back`,
      );
    }
    const expected = linkHash(this.last.hash, event, index);
    if (!event.chainHash || !expected.equals(event.chainHash)) {
      return this.fail(index, event.id, 'hash mismatch: the event was changed after sealing');
    }
    if (this.claim && index === this.claim.index && !this.claim.hash.equals(event.chainHash)) {
      return this.fail(
        index,
        event.id,
        `differs from the signed checkpoint of ${this.claim.time}: the chain was rewritten`,
      );
    }
    this.last = { index, hash: event.chainHash };
    this.lastEventId = event.id;
  }

  finish(): ChainBreak | undefined {
    if (this.broken) return this.broken;
    const { head, last, claim } = this;
    if (!head) {
      if (last.index > 0) this.fail(last.index, this.lastEventId, 'sealed events but no chain head');
    } else if (head.index > last.index) {
      this.fail(
        last.index + 1,
        null,
        `the head says ${head.index} events, the chain ends at ${last.index} (events deleted)`,
      );
    } else if (!head.hash.equals(last.hash)) {
      this.fail(last.index, this.lastEventId, 'the head does not match the last event');
    }
    if (claim && claim.index > last.index) {
      this.fail(
        last.index + 1,
        null,
        `the signed checkpoint of ${claim.time} vouches for ${claim.index} events, the chain has ${last.index} (events deleted or chain rewritten)`,
      );
    }
    return this.broken;
  }
}

/**
 * @example const report = await verifyAuditChains(ctx, { unsealedGraceSeconds: 300 }); report.ok
 */
export async function verifyAuditChains(
  ctx: Ctx,
  options: {
    unsealedGraceSeconds?: number;
    pageSize?: number;
    onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<VerifyReport> {
  const db = ctx.rootDb;
  const pageSize = options.pageSize ?? 5000;
  const checkpoints = await readAuditCheckpoints(ctx);
  const claims = checkpoints.claims;
  const total = await countSealedByHeads(db);
  const breaks: ChainBreak[] = [];
  const seen = new Set<string>();
  let events = 0;
  const progress = (): void => options.onProgress?.(events, Math.max(total, events));

  const close = (walk: ChainWalk | undefined): void => {
    if (!walk) return;
    seen.add(walk.key);
    const broken = walk.finish();
    if (broken) breaks.push(broken);
  };

  // Patients' chains: events and heads, both in patient-id order, merged.
  let heads: Head[] = [];
  let at = 0;
  let headsDone = false;
  const nextHead = async (): Promise<Head | undefined> => {
    while (at >= heads.length && !headsDone) {
      const page = await listHeadsPage(db, heads.at(-1)?.chainKey, pageSize);
      headsDone = page.length < pageSize;
      heads = page;
      at = 0;
    }
    return heads[at];
  };
  /** Closes the chains that have a head but no events, up to key; returns key's own head. */
  const headsUpTo = async (key: string | undefined): Promise<Head | undefined> => {
    for (let head = await nextHead(); head; head = await nextHead()) {
      if (key !== undefined && head.chainKey > key) return undefined;
      at++;
      if (head.chainKey === key) return head;
      if (head.chainKey !== NO_PATIENT_CHAIN)
        close(new ChainWalk(head.chainKey, head, claims.get(head.chainKey)));
    }
    return undefined;
  };

  let walk: ChainWalk | undefined;
  let after: { patientId: string; chainIndex: number } | undefined;
  for (;;) {
    const page = await listSealedPage(db, after, pageSize);
    for (const event of page) {
      const key = event.patientId as string;
      if (walk?.key !== key) {
        close(walk);
        walk = new ChainWalk(key, await headsUpTo(key), claims.get(key));
      }
      walk.feed(event);
      events++;
    }
    const lastEvent = page.at(-1);
    if (!lastEvent || page.length < pageSize) break;
    after = { patientId: lastEvent.patientId as string, chainIndex: lastEvent.chainIndex };
    progress();
  }
  close(walk);
  await headsUpTo(undefined);

  // The chain of events without a patient.
  const [noPatientHead] = await findHeads(db, [NO_PATIENT_CHAIN]);
  walk = new ChainWalk(NO_PATIENT_CHAIN, noPatientHead, claims.get(NO_PATIENT_CHAIN));
  for (let afterIndex = 0; ;) {
    const page = await listSealedNoPatientPage(db, afterIndex, pageSize);
    for (const event of page) {
      walk.feed(event);
      events++;
    }
    const lastEvent = page.at(-1);
    if (!lastEvent || page.length < pageSize) break;
    afterIndex = lastEvent.chainIndex;
    progress();
  }
  if (noPatientHead || walk.last.index > 0 || claims.has(NO_PATIENT_CHAIN)) close(walk);
  progress();

  // Chains a checkpoint vouches for that have vanished altogether.
  for (const [key, claim] of claims) {
    if (seen.has(key) || claim.index === 0) continue;
    breaks.push({
      patientId: patientOfChain(key),
      chainIndex: 1,
      eventId: null,
      problem: `the signed checkpoint of ${claim.time} vouches for ${claim.index} events, the chain is gone`,
    });
  }

  const olderThan = new Date(ctx.clock.now().getTime() - (options.unsealedGraceSeconds ?? 300) * 1000);
  const unsealed = await findUnsealedBefore(db, olderThan, 10);
  return {
    ok: breaks.length === 0 && checkpoints.problems.length === 0,
    chains: seen.size,
    events,
    breaks,
    checkpoints: {
      files: checkpoints.files,
      valid: checkpoints.valid,
      latest: checkpoints.latest,
      problems: checkpoints.problems,
      warnings: checkpoints.warnings,
    },
    unsealed: { olderThan, ...unsealed },
  };
}
