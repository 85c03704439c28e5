import { sql } from 'kysely';
import type { Queryable } from '../../platform/db/database.ts';
import { uuidv7 } from '../../platform/ids.ts';

/**
 * Representation rules for many records at once (children of the insurer's population file, each
 * represented by the parent who declared them): one multi-row insert. Only for records that are
 * being created in the same transaction, by the system — nobody's access is decided here.
 */
export interface BulkRepresentation {
  /** The represented record (the child). */
  patientId: string;
  /** The representative's own patient id (the parent). */
  personId: string;
  role: 'legal_representative' | 'guardian';
  /** When the representation ends (majority). */
  endsAt: Date | null;
}

/**
 * @example await insertRepresentationsBulk(tx, [{ patientId: childId, personId: parentId, role: 'legal_representative', endsAt }], now, 'system:population-import');
 */
export async function insertRepresentationsBulk(
  db: Queryable,
  rules: readonly BulkRepresentation[],
  now: Date,
  createdBy: string,
): Promise<void> {
  if (rules.length === 0) return;
  await sql`
    insert into access_rules (patient_id, id, kind, person_id, role, scopes, starts_at, ends_at, created_at, created_by)
    select t.p, t.id, 'representation', t.person, t.role, '{}', ${now}, t.ends, ${now}, ${createdBy}
    from unnest(${rules.map((r) => r.patientId)}::uuid[], ${rules.map(() => uuidv7(now.getTime()))}::uuid[],
      ${rules.map((r) => r.personId)}::uuid[], ${rules.map((r) => r.role)}::text[],
      ${rules.map((r) => r.endsAt)}::timestamptz[]) as t(p, id, person, role, ends)`.execute(db);
}
