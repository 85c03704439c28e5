import type { Migration } from 'kysely/migration';
import * as foundation from './2026-11-22T0001-foundation.ts';
import * as accessRules from './2026-11-22T0002-access-rules.ts';
import * as auditChain from './2026-11-22T0003-audit-chain.ts';
import * as notifications from './2026-11-22T0004-notifications.ts';
import * as accounts from './2026-11-22T0005-accounts.ts';
import * as secondFactor from './2026-11-22T0006-second-factor.ts';
import * as passkeys from './2026-11-22T0007-passkeys.ts';
import * as professionalSignIn from './2026-11-22T0008-professional-sign-in.ts';
import * as lifeEvents from './2026-11-22T0009-life-events.ts';
import * as family from './2026-11-22T0010-family.ts';
import * as population from './2026-11-22T0011-population.ts';
import * as bulkIndexes from './2026-11-22T0012-bulk-friendly-indexes.ts';
import * as profileMigration from './2026-11-22T0013-profile.ts';
import * as measurementsMigration from './2026-11-22T0014-measurements.ts';
import * as vaccinationsMigration from './2026-11-22T0015-vaccinations.ts';

/**
 * Every migration, by name. Names are timestamps, so they sort in the order they run.
 * Never edit a landed migration: add a new one.
 */
export const migrations: Record<string, Migration> = {
  '2026-11-22T0001-foundation': foundation,
  '2026-11-22T0002-access-rules': accessRules,
  '2026-11-22T0003-audit-chain': auditChain,
  '2026-11-22T0004-notifications': notifications,
  '2026-11-22T0005-accounts': accounts,
  '2026-11-22T0006-second-factor': secondFactor,
  '2026-11-22T0007-passkeys': passkeys,
  '2026-11-22T0008-professional-sign-in': professionalSignIn,
  '2026-11-22T0009-life-events': lifeEvents,
  '2026-11-22T0010-family': family,
  '2026-11-22T0011-population': population,
  '2026-11-22T0012-bulk-friendly-indexes': bulkIndexes,
  '2026-11-22T0013-profile': profileMigration,
  '2026-11-22T0014-measurements': measurementsMigration,
  '2026-11-22T0015-vaccinations': vaccinationsMigration,
};
