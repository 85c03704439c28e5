import type { Queryable } from '../../platform/db/database.ts';
import type { ScheduledJobRow } from '../../platform/db/schema.ts';

/** SQL for scheduled jobs (module notifications) — and nothing else. Carnet's own bookkeeping: no Grant. */

export interface NewScheduledJob {
  id: string;
  name: string;
  key: string | null;
  data: Record<string, unknown>;
  runAt: Date;
  createdAt: Date;
}

/**
 * Schedules a job. With a key, a second schedule of the same (name, key) keeps the first one, or
 * with `replace` moves it to the new time and data (and revives it if it had run or been cancelled).
 */
export async function upsertScheduledJob(
  db: Queryable,
  job: NewScheduledJob,
  replace: boolean,
): Promise<{ id: string; runAt: Date }> {
  const values = {
    id: job.id,
    name: job.name,
    key: job.key,
    data: JSON.stringify(job.data),
    run_at: job.runAt,
    created_at: job.createdAt,
  };
  const row = await db
    .insertInto('scheduled_jobs')
    .values(values)
    .onConflict((oc) => {
      const target = oc.columns(['name', 'key']);
      return replace
        ? target.doUpdateSet({
            data: values.data,
            run_at: values.run_at,
            relayed_at: null,
            completed_at: null,
            cancelled_at: null,
          })
        : target.doNothing();
    })
    .returning(['id', 'run_at'])
    .executeTakeFirst();
  if (row) return { id: row.id, runAt: new Date(row.run_at) };
  const existing = await db
    .selectFrom('scheduled_jobs')
    .select(['id', 'run_at'])
    .where('name', '=', job.name)
    .where('key', '=', job.key)
    .executeTakeFirstOrThrow();
  return { id: existing.id, runAt: new Date(existing.run_at) };
}

export async function cancelScheduledJob(
  db: Queryable,
  name: string,
  key: string,
  at: Date,
): Promise<boolean> {
  const row = await db
    .updateTable('scheduled_jobs')
    .set({ cancelled_at: at })
    .where('name', '=', name)
    .where('key', '=', key)
    .where('completed_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function listUnrelayedJobs(db: Queryable, limit: number): Promise<ScheduledJobRow[]> {
  return db
    .selectFrom('scheduled_jobs')
    .selectAll()
    .where('relayed_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Marks a job relayed for the time it was relayed at (a reschedule in between stays unrelayed). */
export async function markJobRelayed(db: Queryable, id: string, runAt: Date, at: Date): Promise<void> {
  await db
    .updateTable('scheduled_jobs')
    .set({ relayed_at: at })
    .where('id', '=', id)
    .where('run_at', '=', runAt)
    .execute();
}

export async function findScheduledJob(db: Queryable, id: string): Promise<ScheduledJobRow | undefined> {
  return db.selectFrom('scheduled_jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listDueJobs(db: Queryable, now: Date, limit: number): Promise<ScheduledJobRow[]> {
  return db
    .selectFrom('scheduled_jobs')
    .selectAll()
    .where('completed_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .where('run_at', '<=', now)
    .orderBy('run_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Marks a run done, unless the job was moved to another time meanwhile. */
export async function completeScheduledJob(db: Queryable, id: string, runAt: Date, at: Date): Promise<void> {
  await db
    .updateTable('scheduled_jobs')
    .set({ completed_at: at })
    .where('id', '=', id)
    .where('run_at', '=', runAt)
    .where('completed_at', 'is', null)
    .execute();
}
