import type { Queryable } from '../../platform/db/database.ts';
import type {
  OauthClientRow,
  OrganizationRow,
  PatientRow,
  ProfessionalRow,
  PatientsTable,
  ProfessionalsTable,
  OrganizationsTable,
  OauthClientsTable,
  SessionsTable,
} from '../../platform/db/schema.ts';
import type { Insertable } from 'kysely';

export async function findPatientByIns(
  db: Queryable,
  matricule: string,
  oid: string,
): Promise<PatientRow | undefined> {
  return db
    .selectFrom('patients')
    .selectAll()
    .where('ins_matricule', '=', matricule)
    .where('ins_oid', '=', oid)
    .executeTakeFirst();
}

export async function findPatientById(db: Queryable, id: string): Promise<PatientRow | undefined> {
  return db.selectFrom('patients').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findPatientByLogin(db: Queryable, login: string): Promise<PatientRow | undefined> {
  return db.selectFrom('patients').selectAll().where('login', '=', login).executeTakeFirst();
}

export async function insertPatient(db: Queryable, row: Insertable<PatientsTable>): Promise<void> {
  await db.insertInto('patients').values(row).execute();
}

export async function findProfessionalByRpps(
  db: Queryable,
  rpps: string,
): Promise<ProfessionalRow | undefined> {
  return db.selectFrom('professionals').selectAll().where('rpps', '=', rpps).executeTakeFirst();
}

export async function findProfessionalsByIds(db: Queryable, ids: string[]): Promise<ProfessionalRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('professionals').selectAll().where('id', 'in', ids).execute();
}

export async function insertProfessional(db: Queryable, row: Insertable<ProfessionalsTable>): Promise<void> {
  await db.insertInto('professionals').values(row).execute();
}

export async function findOrganizationByFiness(
  db: Queryable,
  finess: string,
): Promise<OrganizationRow | undefined> {
  return db.selectFrom('organizations').selectAll().where('finess', '=', finess).executeTakeFirst();
}

export async function insertOrganization(db: Queryable, row: Insertable<OrganizationsTable>): Promise<void> {
  await db.insertInto('organizations').values(row).execute();
}

export async function insertClient(db: Queryable, row: Insertable<OauthClientsTable>): Promise<void> {
  await db.insertInto('oauth_clients').values(row).execute();
}

export async function findClient(db: Queryable, clientId: string): Promise<OauthClientRow | undefined> {
  return db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

/** The client with the professional it acts for, in one query (run on every authenticated FHIR request). */
export async function findActiveClientWithProfessional(db: Queryable, clientRowId: string) {
  return db
    .selectFrom('oauth_clients as c')
    .innerJoin('professionals as p', 'p.id', 'c.professional_id')
    .innerJoin('organizations as o', 'o.id', 'c.organization_id')
    .select([
      'o.kind as organization_kind',
      'c.id as client_row_id',
      'c.client_id',
      'c.organization_id',
      'p.id as professional_id',
      'p.rpps',
      'p.profession_code',
      'p.specialty_code',
      'p.given',
      'p.family',
    ])
    .where('c.id', '=', clientRowId)
    .where('c.active', '=', true)
    .where('p.active', '=', true)
    .executeTakeFirst();
}

export async function insertSession(db: Queryable, row: Insertable<SessionsTable>): Promise<void> {
  await db.insertInto('sessions').values(row).execute();
}

export async function findLiveSession(db: Queryable, tokenHash: Buffer, now: Date) {
  return db
    .selectFrom('sessions as s')
    .innerJoin('patients as p', 'p.id', 's.patient_id')
    .select(['s.id', 's.patient_id', 'p.given', 'p.family'])
    .where('s.token_hash', '=', tokenHash)
    .where('s.state', '=', 'active')
    .where('s.revoked_at', 'is', null)
    .where('s.expires_at', '>', now)
    .executeTakeFirst();
}

/** Revokes the session of this token if not revoked yet; the session it closed, if any. */
export async function revokeSession(db: Queryable, tokenHash: Buffer, now: Date) {
  return db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .returning(['id', 'patient_id', 'state', 'expires_at'])
    .executeTakeFirst();
}
