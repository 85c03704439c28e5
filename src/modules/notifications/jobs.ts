import { invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db/database.ts';
import { uuidv7 } from '../../platform/ids.ts';
import * as repo from './jobs.repository.ts';
import { notifyOutbox } from './notification.repository.ts';

/**
 * Scheduled jobs for every module ("release this document in a month", "send the 90-day recap").
 * A job is scheduled in the caller's transaction — it exists if and only if the action committed —
 * then relayed to pg-boss, which runs it at its time, retries it with backoff, and keeps it across
 * restarts. Handlers must be idempotent: a run that crashes before it is marked done runs again.
 * For tests with a fixed clock, runDueJobsNow() runs what is due by ctx.clock, without pg-boss.
 */

export interface ScheduledJob {
  readonly id: string;
  readonly name: string;
  readonly key: string | null;
  /** Ids and plain facts only. */
  readonly data: Readonly<Record<string, unknown>>;
  readonly runAt: Date;
}

/** Runs a job. `ctx.db` is not a transaction: open one (guarded()) if the work needs it. */
export type JobHandler = (ctx: Ctx, job: ScheduledJob) => Promise<void>;

/** The handlers of one process, by job name. Built by the composition root, given to the worker. */
export interface JobRegistry {
  readonly handlers: ReadonlyMap<string, JobHandler>;
}

/** @example const jobs = createJobRegistry(); registerJobHandler(jobs, 'documents.release', release); */
export function createJobRegistry(): JobRegistry {
  return { handlers: new Map() };
}

const JOB_NAME = /^[a-z][a-z0-9_.-]{0,79}$/;

/**
 * Says what runs a job of this name. One handler per name.
 * @example registerJobHandler(jobs, 'documents.release', async (ctx, job) => { await releaseDocument(ctx, job.data.documentId as string); });
 */
export function registerJobHandler(jobs: JobRegistry, name: string, handler: JobHandler): void {
  if (!JOB_NAME.test(name)) throw new Error(`Job name ${JSON.stringify(name)} must match ${JOB_NAME}`);
  const handlers = jobs.handlers as Map<string, JobHandler>;
  if (handlers.has(name)) throw new Error(`A handler for ${name} is already registered`);
  handlers.set(name, handler);
}

export interface ScheduleInput {
  readonly name: string;
  /** Makes the schedule idempotent: one live job per (name, key), e.g. the document id. */
  readonly key?: string;
  readonly data?: Record<string, unknown>;
  readonly runAt: Date;
  /** With a key: move an existing job to this time and data instead of keeping it. */
  readonly replace?: boolean;
  /** The caller's now (ctx.clock), recorded as the creation time. */
  readonly at?: Date;
}

/**
 * Schedules a job, in `db` — the transaction of the action that wants it.
 * @example await scheduleJob(tx.db, { name: 'documents.release', key: documentId, data: { documentId }, runAt: inOneMonth, at: ctx.clock.now() });
 */
export async function scheduleJob(db: Queryable, input: ScheduleInput): Promise<{ id: string; runAt: Date }> {
  if (!JOB_NAME.test(input.name)) throw invalid(`Job name must match ${JOB_NAME}`, 'name');
  if (Number.isNaN(input.runAt.getTime())) throw invalid('runAt is not a valid date', 'runAt');
  const at = input.at ?? new Date();
  const scheduled = await repo.upsertScheduledJob(
    db,
    {
      id: uuidv7(at.getTime()),
      name: input.name,
      key: input.key ?? null,
      data: input.data ?? {},
      runAt: input.runAt,
      createdAt: at,
    },
    input.replace === true,
  );
  await notifyOutbox(db);
  return scheduled;
}

/**
 * Cancels a keyed job that has not run. True when there was one.
 * @example await cancelScheduledJob(tx.db, 'documents.release', documentId);
 */
export async function cancelScheduledJob(
  db: Queryable,
  name: string,
  key: string,
  at = new Date(),
): Promise<boolean> {
  return repo.cancelScheduledJob(db, name, key, at);
}

export type RunOutcome = 'ran' | 'skipped' | 'not_due';

/** Within this much of its time, a job counts as due (the queue's clock and ours may differ slightly). */
const DUE_TOLERANCE_MS = 5_000;

/**
 * Runs one scheduled job if it is still live and due, then marks it done. Used by the worker (for
 * a pg-boss job made for this run: `runAt` names the run) and by runDueJobsNow.
 */
export async function runScheduledJob(
  ctx: Ctx,
  jobs: JobRegistry,
  id: string,
  runAt?: Date,
): Promise<RunOutcome> {
  const row = await repo.findScheduledJob(ctx.rootDb, id);
  if (!row || row.completed_at || row.cancelled_at) return 'skipped';
  const rowRunAt = new Date(row.run_at);
  // A job moved to another time since this run was queued: the move queued its own run.
  if (runAt && rowRunAt.getTime() !== runAt.getTime()) return 'skipped';
  if (rowRunAt.getTime() > ctx.clock.now().getTime() + DUE_TOLERANCE_MS) return 'not_due';
  const handler = jobs.handlers.get(row.name);
  if (!handler) throw new Error(`No handler registered for scheduled job ${row.name}`);
  await handler(ctx, { id: row.id, name: row.name, key: row.key, data: row.data, runAt: rowRunAt });
  await repo.completeScheduledJob(ctx.rootDb, row.id, rowRunAt, ctx.clock.now());
  return 'ran';
}

export interface DueJobsReport {
  readonly ran: string[];
  readonly failed: Array<{ id: string; name: string; error: string }>;
}

/**
 * Runs every job due by ctx.clock, oldest first, in this process, without the queue — for tests
 * with a fixed clock (move the clock, run what is due) and for operators. Jobs that a run
 * schedules and that are already due run too; a failing job is reported and left for later.
 * @example clock.advance(31 * DAY); const { ran } = await runDueJobsNow(ctx, jobs);
 */
export async function runDueJobsNow(
  ctx: Ctx,
  jobs: JobRegistry,
  options: { limit?: number } = {},
): Promise<DueJobsReport> {
  const ran: string[] = [];
  const failed: DueJobsReport['failed'] = [];
  const tried = new Set<string>();
  for (;;) {
    const due = (await repo.listDueJobs(ctx.rootDb, ctx.clock.now(), options.limit ?? 500)).filter(
      (j) => !tried.has(j.id),
    );
    if (!due.length) break;
    for (const job of due) {
      tried.add(job.id);
      try {
        if ((await runScheduledJob(ctx, jobs, job.id)) === 'ran') ran.push(job.id);
      } catch (err) {
        failed.push({ id: job.id, name: job.name, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  return { ran, failed };
}
