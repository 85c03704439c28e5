import type { Kysely } from 'kysely';

/** Passkeys (WebAuthn credentials and challenges). */
export async function up(_db: Kysely<unknown>): Promise<void> {
  // Tables come with the feature.
}

export async function down(_db: Kysely<unknown>): Promise<void> {
  // Nothing to undo yet.
}
