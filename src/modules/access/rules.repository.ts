import type { Queryable } from '../../platform/db/database.ts';
import type { AccessRuleRow, AccessRulesTable } from '../../platform/db/schema.ts';
import type { Insertable } from 'kysely';
import { DEFAULT_SETTINGS, type AccessRule, type PrivacySettings, type RoleName } from './policy.ts';

/** SQL for access rules and privacy settings. These tables are what the decision reads. */

export function toRule(row: AccessRuleRow): AccessRule {
  return {
    id: row.id,
    kind: row.kind,
    professionalId: row.professional_id,
    personId: row.person_id,
    documentId: row.document_id,
    role: row.role as RoleName | null,
    scopes: row.scopes,
    channel: row.channel,
    reason: row.reason,
    startsAt: new Date(row.starts_at),
    endsAt: row.ends_at ? new Date(row.ends_at) : null,
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
    details: row.details,
  };
}

/** Unrevoked rules that have not ended: what the decision needs for this record now. */
export async function loadLiveRules(db: Queryable, patientId: string, now: Date): Promise<AccessRuleRow[]> {
  return db
    .selectFrom('access_rules')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('ends_at', 'is', null), eb('ends_at', '>', now)]))
    .execute();
}

export async function loadSettings(db: Queryable, patientId: string): Promise<PrivacySettings> {
  const row = await db
    .selectFrom('privacy_settings')
    .selectAll()
    .where('patient_id', '=', patientId)
    .executeTakeFirst();
  return row
    ? {
        maskByDefault: row.mask_by_default,
        samuAccess: row.samu_access,
        breakGlassAccess: row.break_glass_access,
        emergencyIncludesMasked: row.emergency_includes_masked,
      }
    : DEFAULT_SETTINGS;
}

export async function saveSettings(
  db: Queryable,
  patientId: string,
  s: PrivacySettings,
  now: Date,
): Promise<void> {
  const values = {
    mask_by_default: s.maskByDefault,
    samu_access: s.samuAccess,
    break_glass_access: s.breakGlassAccess,
    emergency_includes_masked: s.emergencyIncludesMasked,
    updated_at: now,
  };
  await db
    .insertInto('privacy_settings')
    .values({ patient_id: patientId, ...values })
    .onConflict((oc) => oc.column('patient_id').doUpdateSet(values))
    .execute();
}

export async function insertRule(db: Queryable, row: Insertable<AccessRulesTable>): Promise<void> {
  await db.insertInto('access_rules').values(row).execute();
}

export async function findRule(
  db: Queryable,
  patientId: string,
  id: string,
): Promise<AccessRuleRow | undefined> {
  return db
    .selectFrom('access_rules')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function revokeRule(db: Queryable, patientId: string, id: string, now: Date): Promise<void> {
  await db
    .updateTable('access_rules')
    .set({ revoked_at: now })
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Live rules of one kind and role (e.g. the current GP), to replace a unique role. */
export async function findLiveRole(
  db: Queryable,
  patientId: string,
  role: string,
  now: Date,
): Promise<AccessRuleRow[]> {
  return (await loadLiveRules(db, patientId, now)).filter((r) => r.kind === 'role' && r.role === role);
}
