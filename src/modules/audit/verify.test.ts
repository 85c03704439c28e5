import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, type TestRuntime } from '../../../test/harness.ts';
import { genesisHash, linkHash } from './chain.ts';
import { listSealedPage, type SealedEvent } from './chain.repository.ts';
import { CHECKPOINT_PREFIX, compactAuditCheckpoints, readAuditCheckpoints } from './checkpoint.ts';
import { recordAuditEvent } from './index.ts';
import { sealAuditEvents } from './seal.ts';
import { verifyAuditChains, type ChainBreak } from './verify.ts';

/**
 * Tamper evidence: rows edited, deleted, forged, or a whole chain rewritten through the database
 * are caught by `verifyAuditChains`, which names the first broken link of each chain.
 */

let rt: TestRuntime;
beforeAll(async () => {
  rt = await createTestRuntime();
});
afterAll(async () => {
  await rt?.close();
});

const db = () => rt.ctx.rootDb;

async function recordChain(patientId: string, n = 5): Promise<void> {
  for (let i = 0; i < n; i++) {
    await recordAuditEvent(db(), {
      patientId,
      recordedAt: new Date(Date.now() - 60_000 + i),
      actor: {
        kind: 'professional',
        id: '10101010101',
        display: 'Jean Docteur',
        organizationId: null,
        clientId: 'c1',
        professionCode: '10',
      },
      action: 'read',
      entity: { type: 'DocumentReference', id: randomUUID() },
      outcome: 'success',
      basis: 'care-team',
      reason: null,
      requestId: `r${i}`,
      details: { i },
    });
  }
}

async function sealed(patientId: string): Promise<SealedEvent[]> {
  const rows = await listSealedPage(db(), { patientId, chainIndex: 0 }, 1000);
  return rows.filter((e) => e.patientId === patientId);
}

/** What an attacker with write access to the database does to hide a change: recompute everything after it. */
async function rewriteConsistently(
  patientId: string,
  change: (e: SealedEvent) => SealedEvent,
): Promise<void> {
  const events = await sealed(patientId);
  let previous = genesisHash(patientId);
  for (const original of events) {
    const e = original.chainIndex === 2 ? change(original) : original;
    const hash = linkHash(previous, e, e.chainIndex);
    await sql`update audit_events set actor_display = ${e.actorDisplay}, chain_hash = ${hash}
              where patient_id = ${patientId} and id = ${e.id}`.execute(db());
    previous = hash;
  }
  await sql`update audit_chain_heads set chain_hash = ${previous} where patient_id = ${patientId}`.execute(
    db(),
  );
}

const cases = [
  'untouched',
  'edit',
  'deleteMiddle',
  'deleteLast',
  'forgeAppend',
  'headEdit',
  'rewriteProtected',
  'truncateConsistently',
  'chainGone',
  'rewriteUnprotected',
] as const;
const patient = Object.fromEntries(cases.map((c) => [c, randomUUID()])) as Record<
  (typeof cases)[number],
  string
>;
const ids: Record<string, string[]> = {};
let forgedId = '';

describe('verifyAuditChains', () => {
  beforeAll(async () => {
    // A chain sealed while no checkpoint was written: only the chain itself protects it.
    await recordChain(patient.rewriteUnprotected);
    await sealAuditEvents(rt.ctx, { checkpoint: false });
    for (const c of cases) if (c !== 'rewriteUnprotected') await recordChain(patient[c]);
    await sealAuditEvents(rt.ctx);
    for (const c of cases) ids[c] = (await sealed(patient[c])).map((e) => e.id);

    const p = patient;
    await sql`update audit_events set actor_display = 'Someone else', actor_id = '10000000000'
              where patient_id = ${p.edit} and chain_index = 3`.execute(db());
    await sql`delete from audit_events where patient_id = ${p.deleteMiddle} and chain_index = 3`.execute(
      db(),
    );
    await sql`delete from audit_events where patient_id = ${p.deleteLast} and chain_index = 5`.execute(db());

    const [last] = (await sealed(p.forgeAppend)).slice(-1);
    forgedId = randomUUID();
    await sql`insert into audit_events (patient_id, id, recorded_at, actor_kind, actor_id, actor_display, action, entity_type, outcome, details)
              values (${p.forgeAppend}, ${forgedId}, now(), 'patient', ${p.forgeAppend}, 'Camille Test', 'read', 'DocumentReference', 'success', '{}')`.execute(
      db(),
    );
    const [forged] = (
      await sql<{ seq: string }>`select seq from audit_events where id = ${forgedId}`.execute(db())
    ).rows;
    const forgedEvent = (await listSealedPage(db(), undefined, 100_000)).find(
      (e) => e.id === ids.forgeAppend?.[0],
    );
    if (!last || !forged || !forgedEvent) throw new Error('setup');
    const hash = linkHash(
      last.chainHash as Buffer,
      { ...forgedEvent, id: forgedId, seq: String(forged.seq) },
      6,
    );
    await sql`update audit_events set chain_index = 6, chain_hash = ${hash} where id = ${forgedId}`.execute(
      db(),
    );

    await sql`update audit_chain_heads set chain_hash = ${randomBytes(32)} where patient_id = ${p.headEdit}`.execute(
      db(),
    );
    await rewriteConsistently(p.rewriteProtected, (e) => ({ ...e, actorDisplay: 'Nobody' }));
    await rewriteConsistently(p.rewriteUnprotected, (e) => ({ ...e, actorDisplay: 'Nobody' }));

    const kept = (await sealed(p.truncateConsistently))[2];
    await sql`delete from audit_events where patient_id = ${p.truncateConsistently} and chain_index > 3`.execute(
      db(),
    );
    await sql`update audit_chain_heads set chain_index = 3, chain_hash = ${kept?.chainHash}
              where patient_id = ${p.truncateConsistently}`.execute(db());

    await sql`delete from audit_events where patient_id = ${p.chainGone}`.execute(db());
    await sql`delete from audit_chain_heads where patient_id = ${p.chainGone}`.execute(db());
  });

  type Expected = { chainIndex: number; eventId: string | null | undefined; problem: RegExp };
  const expected: Record<(typeof cases)[number], (() => Expected) | null> = {
    untouched: null,
    rewriteUnprotected: null, // the limit checkpoints exist for
    edit: () => ({ chainIndex: 3, eventId: ids.edit?.[2], problem: /hash mismatch/ }),
    deleteMiddle: () => ({ chainIndex: 3, eventId: ids.deleteMiddle?.[3], problem: /chain_index 3 missing/ }),
    deleteLast: () => ({ chainIndex: 5, eventId: null, problem: /head says 5 events, the chain ends at 4/ }),
    forgeAppend: () => ({ chainIndex: 6, eventId: forgedId, problem: /beyond the chain head/ }),
    headEdit: () => ({ chainIndex: 5, eventId: ids.headEdit?.[4], problem: /head does not match/ }),
    rewriteProtected: () => ({
      chainIndex: 5,
      eventId: ids.rewriteProtected?.[4],
      problem: /signed checkpoint.*rewritten/,
    }),
    truncateConsistently: () => ({
      chainIndex: 4,
      eventId: null,
      problem: /vouches for 5 events, the chain has 3/,
    }),
    chainGone: () => ({ chainIndex: 1, eventId: null, problem: /vouches for 5 events, the chain is gone/ }),
  };

  it.each(cases)('%s', async (c) => {
    const report = await verifyAuditChains(rt.ctx);
    const found = report.breaks.filter((b) => b.patientId === patient[c]);
    const want = expected[c];
    if (!want) return expect(found).toEqual([]);
    expect(found).toHaveLength(1);
    const { problem, ...link } = want();
    expect(found[0]).toMatchObject({ patientId: patient[c], ...link });
    expect(found[0]?.problem).toMatch(problem);
  });

  it('fails overall, and gives the same answer page by page', async () => {
    const whole = await verifyAuditChains(rt.ctx);
    expect(whole.ok).toBe(false);
    expect(whole.breaks).toHaveLength(8);
    const paged = await verifyAuditChains(rt.ctx, { pageSize: 2 });
    const key = (b: ChainBreak) => `${b.patientId}`;
    expect([...paged.breaks].sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
      [...whole.breaks].sort((a, b) => key(a).localeCompare(key(b))),
    );
    expect(paged.events).toBe(whole.events);
  });

  it('reports progress up to every event', async () => {
    const calls: Array<[number, number]> = [];
    const report = await verifyAuditChains(rt.ctx, { pageSize: 3, onProgress: (d, t) => calls.push([d, t]) });
    expect(calls.length).toBeGreaterThan(3);
    expect(calls.at(-1)?.[0]).toBe(report.events);
  });

  it('seals nothing, and reports events left unsealed too long', async () => {
    const p = randomUUID();
    const old = await recordAuditEvent(db(), {
      patientId: p,
      recordedAt: new Date(Date.now() - 3600_000),
      actor: { kind: 'patient', id: p, display: 'X', organizationId: null, clientId: null },
      action: 'read',
      entity: { type: 'DocumentReference', id: null },
      outcome: 'success',
      basis: 'owner',
      reason: null,
      requestId: null,
      details: {},
    });
    const report = await verifyAuditChains(rt.ctx, { unsealedGraceSeconds: 600 });
    expect(report.unsealed.count).toBe(1);
    expect(report.unsealed.oldest.map((e) => e.id)).toEqual([old]);
    const again = await verifyAuditChains(rt.ctx, { unsealedGraceSeconds: 600 });
    expect(again.unsealed.count).toBe(1);
    expect((await verifyAuditChains(rt.ctx, { unsealedGraceSeconds: 7200 })).unsealed.count).toBe(0);
  });

  it('names a checkpoint file that is not genuine, and ignores one signed with another key', async () => {
    const set = await readAuditCheckpoints(rt.ctx);
    const [genuineKey] = set.validKeys;
    const genuine = JSON.parse((await rt.ctx.blobs.get(genuineKey as string)).toString()) as Record<
      string,
      unknown
    >;
    const forgedKey = `${CHECKPOINT_PREFIX}2099-01-01T000000.000Z-delta-forged.json`;
    const foreignKey = `${CHECKPOINT_PREFIX}2099-01-01T000000.000Z-delta-foreign.json`;
    await rt.ctx.blobs.put(
      forgedKey,
      Buffer.from(JSON.stringify({ ...genuine, time: '2099-01-01T00:00:00.000Z' })),
    );
    await rt.ctx.blobs.put(foreignKey, Buffer.from(JSON.stringify({ ...genuine, keyId: 'mk-other' })));
    const report = await verifyAuditChains(rt.ctx);
    expect(report.checkpoints.problems).toEqual([
      'checkpoint 2099-01-01T000000.000Z-delta-forged.json: signature does not match',
    ]);
    expect(report.checkpoints.warnings).toEqual([
      'checkpoint 2099-01-01T000000.000Z-delta-foreign.json: signed with another master key (mk-other), not checked',
    ]);
    await rt.ctx.blobs.delete(forgedKey);
    await rt.ctx.blobs.delete(foreignKey);
  });

  it('keeps every claim when checkpoints are compacted', async () => {
    await recordChain(randomUUID(), 2);
    await sealAuditEvents(rt.ctx);
    const before = await readAuditCheckpoints(rt.ctx);
    const breaksBefore = (await verifyAuditChains(rt.ctx)).breaks;
    const { merged } = await compactAuditCheckpoints(rt.ctx);
    expect(before.valid).toBeGreaterThanOrEqual(2);
    expect(merged).toBe(before.valid);
    const after = await readAuditCheckpoints(rt.ctx);
    expect(after.files).toBe(1);
    expect([...after.claims].map(([k, c]) => [k, c.index, c.hash.toString('hex')]).sort()).toEqual(
      [...before.claims].map(([k, c]) => [k, c.index, c.hash.toString('hex')]).sort(),
    );
    const report = await verifyAuditChains(rt.ctx);
    expect(report.breaks).toHaveLength(8);
    // The same breaks; a merged claim carries the compaction's time.
    const timeless = (breaks: ChainBreak[]) =>
      breaks.map((b) => ({ ...b, problem: b.problem.replace(/of \S+Z/, 'of T') }));
    expect(timeless(report.breaks)).toEqual(timeless(breaksBefore));
  });
});
