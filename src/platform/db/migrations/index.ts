import type { Migration } from 'kysely/migration';
import * as foundation from './2026-11-22T0001-foundation.ts';
import * as accessRules from './2026-11-22T0002-access-rules.ts';
import * as auditChain from './2026-11-22T0003-audit-chain.ts';
import * as notifications from './2026-11-22T0004-notifications.ts';

/**
 * Every migration, by name. Names are timestamps, so they sort in the order they run.
 * Never edit a landed migration: add a new one.
 */
export const migrations: Record<string, Migration> = {
  '2026-11-22T0001-foundation': foundation,
  '2026-11-22T0002-access-rules': accessRules,
  '2026-11-22T0003-audit-chain': auditChain,
  '2026-11-22T0004-notifications': notifications,
};
