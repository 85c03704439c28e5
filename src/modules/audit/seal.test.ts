import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, usePostgres, type TestRuntime } from '../../../test/harness.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { recordAuditEvent, type NewAuditEvent } from './index.ts';
import { readAuditCheckpoints } from './checkpoint.ts';
import { sealAuditEvents, startAuditSealer } from './seal.ts';
import { verifyAuditChains } from './verify.ts';

/** The sealer: per-patient chains, contiguous, in seq order, safe with concurrent sealers. */

let rt: TestRuntime;
beforeAll(async () => {
  rt = await createTestRuntime();
});
afterAll(async () => {
  await rt?.close();
});

function event(patientId: string | null, i = 0): NewAuditEvent {
  return {
    patientId,
    recordedAt: new Date(Date.UTC(2026, 2, 2, 8, 0, 0, i)),
    actor: { kind: 'patient', id: patientId, display: 'Camille Test', organizationId: null, clientId: null },
    action: 'read',
    entity: { type: 'DocumentReference', id: randomUUID() },
    outcome: 'success',
    basis: 'owner',
    reason: null,
    requestId: `req-${i}`,
    details: { i },
  };
}

/** Inserts n events for the patient, in multi-row statements (quicker than one by one). */
async function recordMany(patientId: string | null, n: number): Promise<void> {
  for (let start = 0; start < n; start += 500) {
    const rows = Array.from({ length: Math.min(500, n - start) }, (_, k) => {
      const e = event(patientId, start + k);
      return {
        id: uuidv7(),
        patient_id: patientId,
        recorded_at: e.recordedAt,
        actor_kind: e.actor.kind,
        actor_id: e.actor.id,
        actor_display: e.actor.display,
        action: e.action,
        entity_type: e.entity.type,
        entity_id: e.entity.id,
        outcome: e.outcome,
        basis: e.basis,
        details: JSON.stringify(e.details),
      };
    });
    await rt.ctx.rootDb.insertInto('audit_events').values(rows).execute();
  }
}

async function chainOf(patientId: string | null) {
  let q = rt.ctx.rootDb.selectFrom('audit_events').select(['id', 'seq', 'chain_index', 'chain_hash']);
  q = patientId === null ? q.where('patient_id', 'is', null) : q.where('patient_id', '=', patientId);
  const rows = await q.orderBy('seq').execute();
  return rows.map((r) => ({
    id: r.id,
    seq: Number(r.seq),
    index: r.chain_index === null ? null : Number(r.chain_index),
    hash: r.chain_hash ? Buffer.from(r.chain_hash).toString('hex') : null,
  }));
}

async function unsealedCount(): Promise<number> {
  const row = await rt.ctx.rootDb
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('chain_index', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('sealAuditEvents', () => {
  it('chains each patient’s events 1, 2, 3… in seq order, and the events without a patient apart', async () => {
    await sealAuditEvents(rt.ctx); // whatever earlier tests left
    const [a, b] = [randomUUID(), randomUUID()];
    for (let i = 0; i < 5; i++) {
      await recordAuditEvent(rt.ctx.rootDb, event(a, i));
      await recordAuditEvent(rt.ctx.rootDb, event(b, i));
      await recordAuditEvent(rt.ctx.rootDb, event(null, i));
    }
    const noPatientBefore = (await chainOf(null)).filter((e) => e.index !== null).length;
    const result = await sealAuditEvents(rt.ctx);
    expect(result.sealed).toBe(15);
    for (const p of [a, b]) {
      const chain = await chainOf(p);
      expect(chain.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
      expect(new Set(chain.map((e) => e.hash)).size).toBe(5);
      expect(result.heads.get(p)?.index).toBe(5);
      expect(result.heads.get(p)?.hash.toString('hex')).toBe(chain[4]?.hash);
    }
    const none = await chainOf(null);
    expect(none.map((e) => e.index)).toEqual(none.map((_, k) => k + 1));
    expect(none.length - noPatientBefore).toBe(5);
    expect(result.heads.get('00000000-0000-0000-0000-000000000000')?.index).toBe(none.length);
  });

  it('continues a chain where it stopped, and seals nothing twice', async () => {
    const p = randomUUID();
    await recordMany(p, 3);
    await sealAuditEvents(rt.ctx);
    const first = await chainOf(p);
    await recordMany(p, 2);
    const again = await sealAuditEvents(rt.ctx);
    expect(again.sealed).toBe(2);
    const chain = await chainOf(p);
    expect(chain.slice(0, 3)).toEqual(first);
    expect(chain.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
    expect((await sealAuditEvents(rt.ctx)).sealed).toBe(0);
  });

  it('stops at the limit', async () => {
    const p = randomUUID();
    await recordMany(p, 10);
    const r = await sealAuditEvents(rt.ctx, { limit: 4, batchSize: 3 });
    expect(r.sealed).toBe(4);
    expect((await chainOf(p)).map((e) => e.index)).toEqual([1, 2, 3, 4, null, null, null, null, null, null]);
    await sealAuditEvents(rt.ctx);
    expect((await chainOf(p)).map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('writes a signed checkpoint of the heads it advanced (unless asked not to)', async () => {
    const p = randomUUID();
    await recordMany(p, 2);
    const r = await sealAuditEvents(rt.ctx);
    expect(r.checkpoint).toMatch(/^audit\/checkpoints\/.+-delta-[0-9a-f]{12}\.json$/);
    const set = await readAuditCheckpoints(rt.ctx);
    expect(set.problems).toEqual([]);
    expect(set.claims.get(p)).toMatchObject({ index: 2 });
    const q = randomUUID();
    await recordMany(q, 1);
    expect((await sealAuditEvents(rt.ctx, { checkpoint: false })).checkpoint).toBeUndefined();
    expect((await readAuditCheckpoints(rt.ctx)).claims.has(q)).toBe(false);
  });

  it('never interleaves concurrent sealers on one chain', async () => {
    const patients = [randomUUID(), randomUUID(), randomUUID()];
    for (const p of patients) await recordMany(p, 60);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => sealAuditEvents(rt.ctx, { batchSize: 7 })),
    );
    expect(results.reduce((n, r) => n + r.sealed, 0)).toBe(180);
    for (const p of patients) {
      const chain = await chainOf(p);
      expect(chain.map((e) => e.index)).toEqual(chain.map((_, k) => k + 1));
    }
    const report = await verifyAuditChains(rt.ctx);
    expect(report.breaks).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it.runIf(usePostgres)('seals an event committed late after the ones sealed meanwhile', async () => {
    const p = randomUUID();
    const late = rt.ctx.rootDb.transaction().execute(async (tx) => {
      await recordAuditEvent(tx, event(p, 0)); // takes the lower seq…
      await sql`select pg_sleep(0.3)`.execute(tx); // …but commits after the next one is sealed
    });
    await new Promise((r) => setTimeout(r, 100));
    await recordAuditEvent(rt.ctx.rootDb, event(p, 1));
    await sealAuditEvents(rt.ctx);
    await late;
    await sealAuditEvents(rt.ctx);
    const chain = await chainOf(p);
    expect(chain.map((e) => e.index)).toEqual([2, 1]); // in seq order: the late one got link 2
    expect((await verifyAuditChains(rt.ctx)).ok).toBe(true);
  });

  it('runs in the background, and seals and checkpoints what is left when stopped', async () => {
    const sealer = startAuditSealer(rt.ctx, { intervalMs: 20, checkpointIntervalMs: 60_000 });
    const p = randomUUID();
    await recordMany(p, 3);
    for (let i = 0; i < 100 && (await chainOf(p)).some((e) => e.index === null); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await chainOf(p)).map((e) => e.index)).toEqual([1, 2, 3]);
    expect((await readAuditCheckpoints(rt.ctx)).claims.has(p)).toBe(false); // not yet: once a minute
    const q = randomUUID();
    await recordMany(q, 2);
    await sealer.stop();
    expect((await chainOf(q)).map((e) => e.index)).toEqual([1, 2]);
    const claims = (await readAuditCheckpoints(rt.ctx)).claims;
    expect([claims.get(p)?.index, claims.get(q)?.index]).toEqual([3, 2]);
  });

  it('seals thousands of events a second (figure printed)', async () => {
    expect(await unsealedCount()).toBe(0);
    const p = randomUUID();
    const n = 5000;
    await recordMany(p, n);
    const started = performance.now();
    const r = await sealAuditEvents(rt.ctx, { checkpoint: false });
    const seconds = (performance.now() - started) / 1000;
    expect(r.sealed).toBe(n);
    console.log(
      `[figure] sealing: ${Math.round(n / seconds)} events/s on ${rt.backend} (one patient, ${n} events)`,
    );
    expect(n / seconds).toBeGreaterThan(1000);
  });
});
