import type { Kysely } from 'kysely';

/** Second factors (TOTP, e-mail one-time codes), sign-in throttling. */
export async function up(_db: Kysely<unknown>): Promise<void> {
  // Tables come with the feature.
}

export async function down(_db: Kysely<unknown>): Promise<void> {
  // Nothing to undo yet.
}
