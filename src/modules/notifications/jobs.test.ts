import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, type TestRuntime } from '../../../test/harness.ts';
import { AppError } from '../../errors.ts';
import { fixedClock } from '../../platform/clock.ts';
import type { Ctx } from '../../platform/context.ts';
import {
  cancelScheduledJob,
  createJobRegistry,
  registerJobHandler,
  runDueJobsNow,
  scheduleJob,
  type ScheduledJob,
} from './jobs.ts';
import { startNotificationWorker } from './worker.ts';

/** Scheduled jobs: written in the caller's transaction, run once when due — by pg-boss, or on demand. */

const DAY = 86_400_000;
let rt: TestRuntime;

beforeAll(async () => {
  rt = await createTestRuntime();
});
afterAll(async () => rt?.close());

function recorder() {
  const runs: ScheduledJob[] = [];
  const jobs = createJobRegistry();
  return { runs, jobs };
}

describe('scheduled jobs with a fixed clock', () => {
  it('exist only if the scheduling transaction commits', async () => {
    const key = `doc-${Date.now()}`;
    await expect(
      rt.ctx.rootDb.transaction().execute(async (tx) => {
        await scheduleJob(tx, { name: 'test.rolled-back', key, runAt: new Date() });
        throw new AppError('conflict', 'the action failed');
      }),
    ).rejects.toThrow('the action failed');
    const rows = await rt.ctx.rootDb
      .selectFrom('scheduled_jobs')
      .selectAll()
      .where('key', '=', key)
      .execute();
    expect(rows).toEqual([]);
  });

  it('run when due by the clock, once each, oldest first; a failure is reported and retried later', async () => {
    const clock = fixedClock(new Date('2031-01-01T08:00:00Z'));
    const ctx: Ctx = { ...rt.ctx, clock };
    const { runs, jobs } = recorder();
    let failOnce = true;
    registerJobHandler(jobs, 'test.notice', async (_ctx, job) => void runs.push(job));
    registerJobHandler(jobs, 'test.release', async (_ctx, job) => {
      if (failOnce) {
        failOnce = false;
        throw new Error('storage unavailable');
      }
      runs.push(job);
    });
    expect(() => registerJobHandler(jobs, 'test.notice', async () => undefined)).toThrow(
      /already registered/,
    );
    const documentId = '0192f0c4-8f3a-7c1e-9a4b-3f2d1e0c9b8a';
    await rt.ctx.rootDb.transaction().execute(async (tx) => {
      await scheduleJob(tx, {
        name: 'test.release',
        key: documentId,
        data: { documentId },
        runAt: new Date(clock.now().getTime() + 30 * DAY),
        at: clock.now(),
      });
      await scheduleJob(tx, {
        name: 'test.notice',
        key: documentId,
        data: { documentId },
        runAt: new Date(clock.now().getTime() + 14 * DAY),
        at: clock.now(),
      });
    });

    expect(await runDueJobsNow(ctx, jobs)).toEqual({ ran: [], failed: [] });
    clock.advance(15 * DAY);
    const atNotice = await runDueJobsNow(ctx, jobs);
    expect(atNotice.ran).toHaveLength(1);
    expect(runs.map((r) => [r.name, r.data])).toEqual([['test.notice', { documentId }]]);
    clock.advance(16 * DAY);
    const atRelease = await runDueJobsNow(ctx, jobs);
    expect(atRelease.failed).toMatchObject([{ name: 'test.release', error: 'storage unavailable' }]);
    expect((await runDueJobsNow(ctx, jobs)).ran).toHaveLength(1);
    expect(runs.map((r) => r.name)).toEqual(['test.notice', 'test.release']);
    expect(await runDueJobsNow(ctx, jobs)).toEqual({ ran: [], failed: [] });
  });

  it('a keyed schedule is idempotent, can be moved, and can be cancelled', async () => {
    const clock = fixedClock(new Date('2032-01-01T08:00:00Z'));
    const ctx: Ctx = { ...rt.ctx, clock };
    const { runs, jobs } = recorder();
    registerJobHandler(jobs, 'test.recap', async (_ctx, job) => void runs.push(job));
    registerJobHandler(jobs, 'test.cancelled', async (_ctx, job) => void runs.push(job));
    const in90 = new Date(clock.now().getTime() + 90 * DAY);
    const a = await scheduleJob(rt.ctx.rootDb, {
      name: 'test.recap',
      key: 'p1',
      runAt: in90,
      at: clock.now(),
    });
    const b = await scheduleJob(rt.ctx.rootDb, {
      name: 'test.recap',
      key: 'p1',
      runAt: new Date(clock.now().getTime() + DAY),
      at: clock.now(),
    });
    expect(b).toEqual(a); // kept, not doubled
    const moved = await scheduleJob(rt.ctx.rootDb, {
      name: 'test.recap',
      key: 'p1',
      runAt: new Date(clock.now().getTime() + 2 * DAY),
      replace: true,
      at: clock.now(),
    });
    expect(moved.id).toBe(a.id);
    await scheduleJob(rt.ctx.rootDb, {
      name: 'test.cancelled',
      key: 'p1',
      runAt: new Date(clock.now().getTime() + DAY),
    });
    expect(await cancelScheduledJob(rt.ctx.rootDb, 'test.cancelled', 'p1')).toBe(true);
    clock.advance(3 * DAY);
    await runDueJobsNow(ctx, jobs);
    expect(runs.map((r) => r.name)).toEqual(['test.recap']);
  });
});

describe('scheduled jobs through pg-boss', () => {
  it('a due job runs once in the worker and is marked done', async () => {
    const { runs, jobs } = recorder();
    registerJobHandler(jobs, 'test.via-queue', async (_ctx, job) => void runs.push(job));
    const worker = await startNotificationWorker(rt.ctx, {
      jobs,
      pollingIntervalSeconds: 0.5,
      relayIntervalMs: 200,
    });
    try {
      await expect(worker.scheduleCron('test.unknown', '0 7 * * *')).rejects.toThrow(/No handler/);
      const { id } = await scheduleJob(rt.ctx.rootDb, {
        name: 'test.via-queue',
        key: `k-${Date.now()}`,
        data: { n: 1 },
        runAt: new Date(Date.now() + 300),
      });
      const deadline = Date.now() + 10_000;
      while (runs.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 1000));
      expect(runs.map((r) => [r.id, r.data])).toEqual([[id, { n: 1 }]]);
      const row = await rt.ctx.rootDb
        .selectFrom('scheduled_jobs')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row.completed_at).not.toBeNull();
    } finally {
      await worker.stop();
    }
  });
});
