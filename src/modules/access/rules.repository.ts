import { sql } from 'kysely';
import type { Queryable } from '../../platform/db/database.ts';
import type { AccessRuleRow, AccessRulesTable } from '../../platform/db/schema.ts';
import type { Insertable } from 'kysely';
import {
  DEFAULT_SETTINGS,
  type AccessRule,
  type AccountStatus,
  type PrivacySettings,
  type RoleName,
} from './policy.ts';

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

/**
 * A record's live rules and its settings in ONE round trip (the gate runs this on every request).
 * Rows come back as JSON and are mapped like loadLiveRules' rows.
 */
export async function loadPolicyRows(
  db: Queryable,
  patientId: string,
  now: Date,
): Promise<{ rules: AccessRuleRow[]; settings: PrivacySettings; accountStatus: AccountStatus }> {
  const result = await sql<{
    settings: Record<string, unknown> | null;
    rules: Array<Record<string, unknown>> | null;
    account_status: AccountStatus | null;
  }>`
    select
      (select row_to_json(s) from privacy_settings s where s.patient_id = ${patientId}) as settings,
      -- The state of the space is identity's; read here in the same round trip, as a fact of the decision.
      (select p.account_status from patients p where p.id = ${patientId}) as account_status,
      (select json_agg(r) from access_rules r
        where r.patient_id = ${patientId} and r.revoked_at is null and (r.ends_at is null or r.ends_at > ${now})) as rules
  `.execute(db);
  const row = result.rows[0];
  const s = row?.settings;
  const settings: PrivacySettings = s
    ? {
        maskByDefault: s.mask_by_default === true,
        samuAccess: s.samu_access === true,
        breakGlassAccess: s.break_glass_access === true,
        emergencyIncludesMasked: s.emergency_includes_masked === true,
      }
    : DEFAULT_SETTINGS;
  const rules = (row?.rules ?? []).map(
    (r) =>
      ({
        ...r,
        starts_at: new Date(r.starts_at as string),
        ends_at: r.ends_at ? new Date(r.ends_at as string) : null,
        revoked_at: r.revoked_at ? new Date(r.revoked_at as string) : null,
        created_at: new Date(r.created_at as string),
      }) as AccessRuleRow,
  );
  return { rules, settings, accountStatus: row?.account_status ?? 'open' };
}
