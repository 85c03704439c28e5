import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import type { Queryable } from '../../platform/db/database.ts';
import type { FamilyInvitationsTable, InvitationRole } from '../../platform/db/schema-family.ts';

/**
 * SQL of the family module: its own tables (invitations, majority marks), plus read-only facts
 * from identity (a person's civil traits and the state of their space) and access (who represents
 * whom), in the one query each use case needs — as the gate reads the state of a space. Rules are
 * written only through the access module (addRepresentation / endRepresentation).
 */

export type InvitationRow = Selectable<FamilyInvitationsTable>;

export interface PersonRow {
  id: string;
  given: string;
  family: string;
  birth_date: string;
  email: string | null;
  account_status: string;
  activated_at: Date | null;
  origin: string;
}

const personColumns = [
  'id',
  'given',
  'family',
  'birth_date',
  'email',
  'account_status',
  'activated_at',
  'origin',
] as const;

export async function findPerson(db: Queryable, id: string): Promise<PersonRow | undefined> {
  return db.selectFrom('patients').select(personColumns).where('id', '=', id).executeTakeFirst();
}

export async function findPeopleByMatricule(db: Queryable, matricule: string): Promise<PersonRow[]> {
  return db
    .selectFrom('patients')
    .select(personColumns)
    .where('ins_matricule', '=', matricule)
    .limit(2)
    .execute();
}

export async function findPeopleByEmail(db: Queryable, email: string): Promise<PersonRow[]> {
  return db
    .selectFrom('patients')
    .select(personColumns)
    .where(sql<string>`lower(email)`, '=', email.toLowerCase())
    .limit(2)
    .execute();
}

export async function findPeople(db: Queryable, ids: string[]): Promise<PersonRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('patients').select(personColumns).where('id', 'in', ids).execute();
}

export interface RepresentedRow {
  rule_id: string;
  role: string | null;
  scopes: string[];
  ends_at: Date | null;
  patient_id: string;
  given: string;
  family: string;
  birth_date: string;
}

/** Open records in which `personId` holds a live representation (rule not revoked, not ended). */
export async function listRepresented(db: Queryable, personId: string, now: Date): Promise<RepresentedRow[]> {
  return db
    .selectFrom('access_rules as r')
    .innerJoin('patients as p', 'p.id', 'r.patient_id')
    .select([
      'r.id as rule_id',
      'r.role',
      'r.scopes',
      'r.ends_at',
      'r.patient_id',
      'p.given',
      'p.family',
      'p.birth_date',
    ])
    .where('r.person_id', '=', personId)
    .where('r.kind', '=', 'representation')
    .where('r.revoked_at', 'is', null)
    .where('r.starts_at', '<=', now)
    .where((eb) => eb.or([eb('r.ends_at', 'is', null), eb('r.ends_at', '>', now)]))
    .where('p.account_status', '=', 'open')
    .orderBy('p.birth_date', 'desc')
    .execute()
    .then((rows) => rows.map((r) => ({ ...r, ends_at: r.ends_at ? new Date(r.ends_at) : null })));
}

/** Live representation rules of a record, optionally one role (for the invitation checks). */
export async function liveRepresentations(
  db: Queryable,
  patientId: string,
  now: Date,
  role?: string,
): Promise<Array<{ id: string; person_id: string | null; role: string | null; ends_at: Date | null }>> {
  let q = db
    .selectFrom('access_rules')
    .select(['id', 'person_id', 'role', 'ends_at'])
    .where('patient_id', '=', patientId)
    .where('kind', '=', 'representation')
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('ends_at', 'is', null), eb('ends_at', '>', now)]));
  if (role) q = q.where('role', '=', role);
  return (await q.execute()).map((r) => ({ ...r, ends_at: r.ends_at ? new Date(r.ends_at) : null }));
}

/** Serialises the invitation checks of one person (limits) until the transaction ends. */
export async function lockPerson(db: Queryable, personId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`family:${personId}`}))`.execute(db);
}

export async function insertInvitation(
  db: Queryable,
  row: Insertable<FamilyInvitationsTable>,
): Promise<void> {
  await db.insertInto('family_invitations').values(row).execute();
}

export async function findInvitation(db: Queryable, id: string): Promise<InvitationRow | undefined> {
  return db.selectFrom('family_invitations').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findPendingInvitation(
  db: Queryable,
  patientId: string,
  inviteeId: string,
  role: InvitationRole,
): Promise<InvitationRow | undefined> {
  return db
    .selectFrom('family_invitations')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('invitee_id', '=', inviteeId)
    .where('role', '=', role)
    .where('status', '=', 'pending')
    .executeTakeFirst();
}

export async function updateInvitation(
  db: Queryable,
  patientId: string,
  id: string,
  changes: Updateable<FamilyInvitationsTable>,
): Promise<InvitationRow> {
  return db
    .updateTable('family_invitations')
    .set(changes)
    .where('patient_id', '=', patientId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Invitations the person received, and those on their record or that they sent, newest first. */
export async function listInvitationsOf(
  db: Queryable,
  personId: string,
): Promise<{ received: InvitationRow[]; sent: InvitationRow[] }> {
  const received = await db
    .selectFrom('family_invitations')
    .selectAll()
    .where('invitee_id', '=', personId)
    .orderBy('created_at', 'desc')
    .limit(200)
    .execute();
  const sent = await db
    .selectFrom('family_invitations')
    .selectAll()
    .where((eb) => eb.or([eb('patient_id', '=', personId), eb('invited_by', '=', personId)]))
    .orderBy('created_at', 'desc')
    .limit(200)
    .execute();
  return { received, sent };
}

/** A record's invitations of one role that still count: accepted and live, or pending and unexpired. */
export async function countLiveOrPending(
  db: Queryable,
  patientId: string,
  role: InvitationRole,
  now: Date,
): Promise<number> {
  const row = await db
    .selectFrom('family_invitations')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('patient_id', '=', patientId)
    .where('role', '=', role)
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'pending'), eb('expires_at', '>', now)]),
        eb.and([eb('status', '=', 'accepted'), eb.or([eb('ends_at', 'is', null), eb('ends_at', '>', now)])]),
      ]),
    )
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** How many people a caregiver helps now (accepted, live). */
export async function countHelpedBy(db: Queryable, caregiverId: string, now: Date): Promise<number> {
  const row = await db
    .selectFrom('family_invitations')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('invitee_id', '=', caregiverId)
    .where('role', '=', 'caregiver')
    .where('status', '=', 'accepted')
    .where((eb) => eb.or([eb('ends_at', 'is', null), eb('ends_at', '>', now)]))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Marks pending invitations past their expiry as expired; returns how many. */
export async function expirePendingInvitations(db: Queryable, now: Date): Promise<number> {
  const rows = await db
    .updateTable('family_invitations')
    .set({ status: 'expired' })
    .where('status', '=', 'pending')
    .where('expires_at', '<=', now)
    .returning('id')
    .execute();
  return rows.length;
}

/**
 * People born in [bornAfter, bornOnOrBefore] (YYYY-MM-DD) who were children on the platform
 * (declared at birth, or with a legal representative, live or ended) and whom the majority job
 * has not processed yet.
 */
export async function listMajorityCandidates(
  db: Queryable,
  window: { bornAfter: string; bornOnOrBefore: string },
  limit: number,
): Promise<PersonRow[]> {
  return db
    .selectFrom('patients as p')
    .select(personColumns.map((c) => `p.${c}` as const))
    .where('p.birth_date', '>', window.bornAfter)
    .where('p.birth_date', '<=', window.bornOnOrBefore)
    .where((eb) =>
      eb.or([
        eb('p.origin', '=', 'birth'),
        eb.exists(
          eb
            .selectFrom('access_rules as r')
            .select(sql`1`.as('one'))
            .whereRef('r.patient_id', '=', 'p.id')
            .where('r.kind', '=', 'representation')
            .where('r.role', '=', 'legal_representative'),
        ),
      ]),
    )
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('family_majority as m')
            .select(sql`1`.as('one'))
            .whereRef('m.patient_id', '=', 'p.id'),
        ),
      ),
    )
    .orderBy('p.birth_date')
    .limit(limit)
    .execute();
}

/** Marks a person as processed by the majority job; false when another run already did. */
export async function markMajority(
  db: Queryable,
  patientId: string,
  now: Date,
  invited: boolean,
): Promise<boolean> {
  const rows = await db
    .insertInto('family_majority')
    .values({ patient_id: patientId, processed_at: now, invited })
    .onConflict((oc) => oc.column('patient_id').doNothing())
    .returning('patient_id')
    .execute();
  return rows.length === 1;
}

export async function countPending(
  db: Queryable,
  patientId: string,
  role: InvitationRole,
  now: Date,
): Promise<number> {
  const row = await db
    .selectFrom('family_invitations')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('patient_id', '=', patientId)
    .where('role', '=', role)
    .where('status', '=', 'pending')
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
