import { sql } from 'kysely';
import type { Queryable } from '../../platform/db/database.ts';
import type { SessionState } from '../../platform/db/schema.ts';

/** A live session (not revoked, not expired) of a given state, by token hash. */
export async function findLiveSessionByToken(
  db: Queryable,
  tokenHash: Buffer,
  state: SessionState,
  now: Date,
) {
  return db
    .selectFrom('sessions')
    .select(['id', 'patient_id', 'auth_method', 'expires_at', 'user_agent', 'ip'])
    .where('token_hash', '=', tokenHash)
    .where('state', '=', state)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

/** The person's live signed-in sessions, newest first. */
export async function listLiveSessions(db: Queryable, patientId: string, now: Date) {
  return db
    .selectFrom('sessions')
    .select(['id', 'created_at', 'last_seen_at', 'expires_at', 'user_agent', 'ip', 'auth_method'])
    .where('patient_id', '=', patientId)
    .where('state', '=', 'active')
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .execute();
}

/** Revokes one live session of the person; false when there is none with that id. */
export async function revokeSessionById(
  db: Queryable,
  patientId: string,
  id: string,
  now: Date,
): Promise<boolean> {
  const res = await db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** Revokes every live session of the person (of any state) but `exceptId`; returns how many. */
export async function revokeSessionsOf(
  db: Queryable,
  patientId: string,
  now: Date,
  exceptId: string | undefined,
): Promise<number> {
  let q = db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('patient_id', '=', patientId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now);
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** Notes that a session was used, at most once per `everyMs` (a write per request would be waste). */
export async function touchSession(db: Queryable, id: string, now: Date, everyMs: number): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ last_seen_at: now })
    .where('id', '=', id)
    .where((eb) =>
      eb.or([
        eb('last_seen_at', 'is', null),
        eb('last_seen_at', '<', sql<Date>`${new Date(now.getTime() - everyMs)}`),
      ]),
    )
    .execute();
}

export async function setPasswordHash(
  db: Queryable,
  patientId: string,
  hash: string,
  now: Date,
): Promise<void> {
  await db
    .updateTable('patients')
    .set({ password_hash: hash, updated_at: now })
    .where('id', '=', patientId)
    .execute();
}
