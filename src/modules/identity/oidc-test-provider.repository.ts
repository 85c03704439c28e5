import type { Insertable } from 'kysely';
import type { Queryable } from '../../platform/db/database.ts';
import type { OidcTestCodesTable } from '../../platform/db/schema-pro.ts';

/** SQL of the local OpenID Connect test provider (embedded mode only). */

export async function listTestProfessionals(db: Queryable, limit: number) {
  return db
    .selectFrom('professionals')
    .select(['rpps', 'given', 'family', 'profession_code', 'active'])
    .orderBy('family')
    .orderBy('given')
    .orderBy('rpps')
    .limit(limit)
    .execute();
}

export async function findTestProfessional(db: Queryable, rpps: string) {
  return db
    .selectFrom('professionals')
    .select(['rpps', 'given', 'family', 'profession_code', 'specialty_code'])
    .where('rpps', '=', rpps)
    .executeTakeFirst();
}

export async function insertTestCode(db: Queryable, row: Insertable<OidcTestCodesTable>): Promise<void> {
  await db.insertInto('oidc_test_codes').values(row).execute();
}

/** Marks a live code used and returns it; undefined when unknown, expired or already used (single use). */
export async function consumeTestCode(db: Queryable, codeHash: Buffer, now: Date) {
  return db
    .updateTable('oidc_test_codes')
    .set({ used_at: now })
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['client_id', 'redirect_uri', 'code_challenge', 'nonce', 'rpps', 'created_at'])
    .executeTakeFirst();
}

export async function deleteStaleTestCodes(db: Queryable, before: Date): Promise<void> {
  await db.deleteFrom('oidc_test_codes').where('expires_at', '<', before).execute();
}
