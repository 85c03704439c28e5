import type { Insertable } from 'kysely';
import type { Queryable } from '../../platform/db/database.ts';
import type { ProLoginAttemptsTable, ProSessionsTable } from '../../platform/db/schema-pro.ts';

/** SQL of professional sign-in: pending authorization requests and professional web sessions. */

export async function insertLoginAttempt(
  db: Queryable,
  row: Insertable<ProLoginAttemptsTable>,
): Promise<void> {
  await db.insertInto('pro_login_attempts').values(row).execute();
}

export async function deleteStaleLoginAttempts(db: Queryable, before: Date): Promise<void> {
  await db.deleteFrom('pro_login_attempts').where('expires_at', '<', before).execute();
}

/** Marks the browser's live attempt used and returns it (single use); undefined otherwise. */
export async function consumeLoginAttempt(db: Queryable, bindingHash: Buffer, now: Date) {
  return db
    .updateTable('pro_login_attempts')
    .set({ used_at: now })
    .where('binding_hash', '=', bindingHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['id', 'state', 'nonce', 'sealed_verifier'])
    .executeTakeFirst();
}

export async function findProfessionalForSignIn(db: Queryable, rpps: string) {
  return db
    .selectFrom('professionals')
    .select(['id', 'rpps', 'given', 'family', 'profession_code', 'specialty_code', 'active'])
    .where('rpps', '=', rpps)
    .executeTakeFirst();
}

/** The organisation of the professional's first active software client (the one they act for). */
export async function firstClientOrganization(db: Queryable, professionalId: string) {
  return db
    .selectFrom('oauth_clients')
    .select('organization_id')
    .where('professional_id', '=', professionalId)
    .where('active', '=', true)
    .orderBy('created_at')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
}

export async function insertProSession(db: Queryable, row: Insertable<ProSessionsTable>): Promise<void> {
  await db.insertInto('pro_sessions').values(row).execute();
}

/** A live session of an active professional, with their organisation's kind. */
export async function findLiveProSession(db: Queryable, tokenHash: Buffer, now: Date) {
  return db
    .selectFrom('pro_sessions as s')
    .innerJoin('professionals as p', 'p.id', 's.professional_id')
    .leftJoin('organizations as o', 'o.id', 's.organization_id')
    .select([
      's.id',
      's.organization_id',
      's.expires_at',
      's.acr',
      'o.kind as organization_kind',
      'o.name as organization_name',
      'p.id as professional_id',
      'p.rpps',
      'p.given',
      'p.family',
      'p.profession_code',
      'p.specialty_code',
    ])
    .where('s.token_hash', '=', tokenHash)
    .where('s.revoked_at', 'is', null)
    .where('s.expires_at', '>', now)
    .where('p.active', '=', true)
    .executeTakeFirst();
}

export async function revokeProSession(db: Queryable, tokenHash: Buffer, now: Date) {
  return db
    .updateTable('pro_sessions')
    .set({ revoked_at: now })
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .returning(['id', 'professional_id', 'organization_id'])
    .executeTakeFirst();
}

export async function findProfessionalByIdForAudit(db: Queryable, id: string) {
  return db
    .selectFrom('professionals')
    .select(['rpps', 'given', 'family', 'profession_code'])
    .where('id', '=', id)
    .executeTakeFirst();
}
