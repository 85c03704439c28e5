import type { Migration } from 'kysely/migration';
import * as foundation from './2026-11-22T0001-foundation.ts';

/**
 * Every migration, by name. Names are timestamps, so they sort in the order they run.
 * Never edit a landed migration: add a new one.
 */
export const migrations: Record<string, Migration> = {
  '2026-11-22T0001-foundation': foundation,
};
