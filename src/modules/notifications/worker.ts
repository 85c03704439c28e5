import { createHash } from 'node:crypto';
import { fromPglite, PgBoss, type Job, type Queue } from 'pg-boss';
import type { Ctx } from '../../platform/context.ts';
import { pgliteOf } from '../../platform/db/database.ts';
import { inAppSink, type ChannelSink, type ChannelSinks } from './channels.ts';
import { deliverNotification, type DeliveryJob } from './deliver.ts';
import { emailSink } from './email.ts';
import { runScheduledJob, type JobRegistry } from './jobs.ts';
import { CHANNELS, type Channel } from './notification.ts';
import * as jobsRepo from './jobs.repository.ts';
import * as repo from './notification.repository.ts';

/**
 * The background side: pg-boss (a PostgreSQL-backed queue) on the same database — PostgreSQL
 * through DATABASE_URL, PGlite through an adapter over the same instance.
 *
 * Outbox rows and scheduled jobs are written in the transactions of the actions that cause them;
 * a relay moves committed rows into pg-boss jobs. Job ids are derived from the row (notification
 * id + channel; scheduled job id + time), and pg-boss inserts ignore an existing id, so a relay
 * that crashes before marking its rows, or two relays on two nodes, never make a second job. One
 * queue per channel, so a failing SMTP server retries e-mails (with exponential backoff) without
 * holding back the in-app centre. Jobs live in the database: they survive restarts.
 */

export const QUEUES = {
  in_app: 'carnet_notify_in_app',
  email: 'carnet_notify_email',
  push: 'carnet_notify_push',
  scheduled: 'carnet_scheduled',
  cron: 'carnet_cron',
} as const;

export interface RetryPolicy {
  readonly limit: number;
  readonly delaySeconds: number;
  readonly maxDelaySeconds: number;
}

/** About 8 hours of attempts: 30 s, 1 min, 2 min … capped at 1 h between tries. */
export const DEFAULT_RETRY: RetryPolicy = { limit: 12, delaySeconds: 30, maxDelaySeconds: 3600 };

export interface WorkerOptions {
  /** Handlers of scheduled jobs; without it, scheduled jobs wait for a worker that has them. */
  readonly jobs?: JobRegistry;
  /** Replaces the channel sinks built from the configuration (push has no default sink yet). */
  readonly sinks?: ChannelSinks;
  readonly retry?: RetryPolicy;
  /** How often idle queue workers look for jobs (retries, deferred jobs). Default 2 s. */
  readonly pollingIntervalSeconds?: number;
  /** How often the relay looks for committed rows when no NOTIFY woke it. Default 5 s. */
  readonly relayIntervalMs?: number;
  /** Parallel deliveries per channel in this process. Default 4. */
  readonly concurrency?: number;
}

export interface NotificationWorker {
  /** Moves committed outbox rows and scheduled jobs into the queue now; returns how many. */
  relayNow(): Promise<number>;
  /**
   * Runs a registered job on a cron schedule (pg-boss schedule, one per name), e.g. a nightly sweep.
   * @example await worker.scheduleCron('agenda.reminders', '0 7 * * *');
   */
  scheduleCron(name: string, cron: string, data?: Record<string, unknown>): Promise<void>;
  /** Stops relaying and working. Not graceful: jobs in flight are failed now and retried later. */
  stop(options?: { graceful?: boolean; timeoutMs?: number }): Promise<void>;
}

/** A stable job id for a row's run: the same input always yields the same UUID. */
export function jobIdFor(input: string): string {
  const b = createHash('sha256').update(input).digest().subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x80; // version 8 (custom)
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80; // RFC 9562 variant
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function createBoss(ctx: Ctx): PgBoss {
  const pglite = pgliteOf(ctx.rootDb);
  if (pglite) return new PgBoss({ db: fromPglite(pglite), backend: 'pglite', useListenNotify: true });
  if (ctx.config.database.kind !== 'postgres') throw new Error('the job queue needs PGlite or PostgreSQL');
  return new PgBoss({
    connectionString: ctx.config.database.url,
    max: 4,
    application_name: 'carnet-jobs',
    useListenNotify: true,
  });
}

async function ensureQueue(boss: PgBoss, name: string, options: Omit<Queue, 'name'>): Promise<void> {
  if (await boss.getQueue(name)) {
    await boss.updateQueue(name, options);
    return;
  }
  try {
    await boss.createQueue(name, options);
  } catch (err) {
    if (!(await boss.getQueue(name))) throw err; // another node created it meanwhile otherwise
    await boss.updateQueue(name, options);
  }
}

/**
 * Starts pg-boss, the relay, and the workers of every channel and of scheduled jobs.
 * @example const worker = await startNotificationWorker(ctx, { jobs }); … await worker.stop();
 */
export async function startNotificationWorker(
  ctx: Ctx,
  options: WorkerOptions = {},
): Promise<NotificationWorker> {
  const retry = options.retry ?? DEFAULT_RETRY;
  const polling = options.pollingIntervalSeconds ?? 2;
  const sinks: ChannelSinks = options.sinks ?? { in_app: inAppSink(), email: emailSink(ctx.config) };
  const boss = createBoss(ctx);
  boss.on('error', (err) => ctx.log.error({ err }, 'job queue error'));
  await boss.start();

  const queueOptions: Omit<Queue, 'name'> = {
    retryLimit: retry.limit,
    retryDelay: retry.delaySeconds,
    retryBackoff: true,
    retryDelayMax: retry.maxDelaySeconds,
    expireInSeconds: 300,
    notify: true,
  };
  const work = { pollingIntervalSeconds: polling, notifyPollingIntervalSeconds: polling, batchSize: 1 };
  const channels = CHANNELS.filter((c): c is Channel => sinks[c] !== undefined);
  for (const channel of channels) {
    const sink = sinks[channel] as ChannelSink;
    await ensureQueue(boss, QUEUES[channel], queueOptions);
    await boss.work<DeliveryJob>(
      QUEUES[channel],
      { ...work, localConcurrency: options.concurrency ?? 4 },
      async ([job]: Job<DeliveryJob>[]) => {
        if (!job) return;
        try {
          await deliverNotification(ctx, sink, job.data, job.retryCount + 1, { signal: job.signal });
        } catch (err) {
          const last = job.retryCount >= retry.limit;
          ctx.log[last ? 'error' : 'warn'](
            { err, notificationId: job.data.notificationId, channel, attempt: job.retryCount + 1 },
            last
              ? 'notification delivery abandoned after its last attempt'
              : 'notification delivery failed; will retry',
          );
          throw err;
        }
      },
    );
  }
  await ensureQueue(boss, QUEUES.scheduled, { ...queueOptions, retryLimit: Math.max(retry.limit, 20) });
  await ensureQueue(boss, QUEUES.cron, queueOptions);
  const jobs = options.jobs;
  if (jobs) {
    await boss.work<{ scheduledJobId: string; runAt: string }>(QUEUES.scheduled, work, async ([job]) => {
      if (!job) return;
      const outcome = await runScheduledJob(ctx, jobs, job.data.scheduledJobId, new Date(job.data.runAt));
      // Not due by our clock (the database's ran ahead): fail this try, pg-boss retries later.
      if (outcome === 'not_due') throw new Error('not due yet by the application clock');
    });
    await boss.work<{ name: string; data: Record<string, unknown> }>(QUEUES.cron, work, async ([job]) => {
      if (!job) return;
      const handler = jobs.handlers.get(job.data.name);
      if (!handler) throw new Error(`No handler registered for ${job.data.name}`);
      const runAt = ctx.clock.now();
      await handler(ctx, { id: job.id, name: job.data.name, key: null, data: job.data.data, runAt });
    });
  }

  // ---- the relay: committed rows → jobs ----
  const relayBatch = async (): Promise<number> => {
    const now = ctx.clock.now();
    let moved = 0;
    const rows = await repo.listUnrelayed(ctx.rootDb, 200);
    if (rows.length) {
      for (const channel of channels) {
        await boss.insert(
          QUEUES[channel],
          rows.map((r) => ({
            id: jobIdFor(`${r.id}:${channel}`),
            data: { patientId: r.patient_id, notificationId: r.id } satisfies DeliveryJob,
          })),
        );
      }
      await repo.markRelayed(ctx.rootDb, rows, now);
      moved += rows.length;
    }
    const scheduled = await jobsRepo.listUnrelayedJobs(ctx.rootDb, 200);
    for (const j of scheduled) {
      const runAt = new Date(j.run_at);
      await boss.insert(QUEUES.scheduled, [
        {
          id: jobIdFor(`${j.id}:${runAt.toISOString()}`),
          data: { scheduledJobId: j.id, runAt: runAt.toISOString() },
          startAfter: runAt.toISOString(),
        },
      ]);
      await jobsRepo.markJobRelayed(ctx.rootDb, j.id, runAt, now);
      moved++;
    }
    return moved;
  };
  let running: Promise<number> | undefined;
  let again = false;
  let stopped = false;
  const relayNow = async (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      do {
        again = false;
        for (let n = await relayBatch(); n > 0; n = await relayBatch()) total += n;
      } while (again && !stopped);
      return total;
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const kick = (): void => {
    if (stopped) return;
    relayNow().catch((err: unknown) => ctx.log.error({ err }, 'notification relay failed'));
  };
  const timer = setInterval(kick, options.relayIntervalMs ?? 5_000);
  timer.unref();
  const listener = await boss
    .getDb()
    .listen?.(repo.OUTBOX_CHANNEL, kick, kick)
    .catch((err: unknown) => {
      ctx.log.warn({ err }, 'outbox LISTEN unavailable; relaying on a timer only');
      return undefined;
    });
  kick();

  return {
    relayNow,
    scheduleCron: async (name, cron, data = {}) => {
      if (!jobs?.handlers.has(name)) throw new Error(`No handler registered for ${name}`);
      await boss.schedule(QUEUES.cron, cron, { name, data }, { key: name });
    },
    stop: async ({ graceful = false, timeoutMs = 10_000 } = {}) => {
      stopped = true;
      clearInterval(timer);
      await listener?.close().catch(() => undefined);
      await running?.catch(() => undefined);
      await boss.stop({ graceful, timeout: timeoutMs, close: true });
      for (const sink of Object.values(sinks)) await sink.close();
    },
  };
}
