import type { Kysely } from 'kysely';

/** Life events (opposition, closure, suspension, erasure). */
export async function up(_db: Kysely<unknown>): Promise<void> {
  // Tables come with the feature.
}

export async function down(_db: Kysely<unknown>): Promise<void> {
  // Nothing to undo yet.
}
