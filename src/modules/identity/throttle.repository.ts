import type { Queryable } from '../../platform/db/database.ts';

export async function findThrottles(db: Queryable, keys: Buffer[]) {
  if (keys.length === 0) return [];
  return db.selectFrom('auth_throttle').selectAll().where('key', 'in', keys).execute();
}

/** The row of a key, locked for update (created empty first if missing). */
export async function lockThrottle(db: Queryable, key: Buffer, now: Date) {
  await db
    .insertInto('auth_throttle')
    .values({ key, failures: 0, window_started_at: now, lock_count: 0, updated_at: now })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  return db
    .selectFrom('auth_throttle')
    .selectAll()
    .where('key', '=', key)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

export async function updateThrottle(
  db: Queryable,
  key: Buffer,
  row: {
    failures: number;
    window_started_at: Date;
    locked_until: Date | null;
    lock_count: number;
    updated_at: Date;
  },
): Promise<void> {
  await db.updateTable('auth_throttle').set(row).where('key', '=', key).execute();
}

export async function deleteThrottle(db: Queryable, key: Buffer): Promise<void> {
  await db.deleteFrom('auth_throttle').where('key', '=', key).execute();
}

/** Forgets counters idle since `before` and not locked any more. */
export async function purgeThrottles(db: Queryable, before: Date, now: Date): Promise<number> {
  const res = await db
    .deleteFrom('auth_throttle')
    .where('updated_at', '<', before)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}
