import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/**
 * The database schema as Kysely sees it. Tables are owned by modules (named in each comment);
 * only the owner's repository queries its tables. Every table holding a person's data carries
 * `patient_id` and has it first in its primary key, so it can be distributed by person.
 * The shape here must match the migrations in ./migrations.
 */

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** identity */
export interface OrganizationsTable {
  id: string;
  finess: string | null;
  name: string;
  kind: string;
  created_at: Timestamp;
}

/** identity — a person's civil identity; `id` is the patient id every other table refers to. */
export interface PatientsTable {
  id: string;
  ins_matricule: string;
  ins_oid: string;
  given: string;
  family: string;
  birth_date: string;
  sex: string;
  birthplace_code: string | null;
  email: string | null;
  login: string | null;
  password_hash: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** identity */
export interface ProfessionalsTable {
  id: string;
  rpps: string;
  profession_code: string;
  specialty_code: string | null;
  given: string;
  family: string;
  active: boolean;
  created_at: Timestamp;
}

/** identity — software acting for a professional within an organisation (OAuth2 client credentials). */
export interface OauthClientsTable {
  id: string;
  client_id: string;
  secret_hash: Buffer;
  organization_id: string;
  professional_id: string;
  name: string;
  active: boolean;
  created_at: Timestamp;
}

/** identity */
export interface SessionsTable {
  patient_id: string;
  id: string;
  token_hash: Buffer;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}

/** documents */
export interface DocumentsTable {
  patient_id: string;
  id: string;
  master_identifier: string;
  status: 'current' | 'superseded';
  source: 'professional' | 'patient';
  type_system: string | null;
  type_code: string | null;
  type_display: string | null;
  class_code: string | null;
  category: string;
  title: string;
  document_date: Timestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
  author_professional_id: string | null;
  author_organization_id: string | null;
  author_display: string;
  media_type: string;
  format_code: string | null;
  language: string | null;
  size: number;
  sha256: Buffer;
  sha1: string;
  blob_key: string;
  key_id: string;
  wrapped_key: Buffer;
  confidentiality: string[];
  replaces_id: string | null;
  submission_set_id: string | null;
  read_at: Timestamp | null;
  /** Metadata sent by the professional's software that we keep for fidelity (facility, practice setting…). */
  extra: ColumnType<Record<string, unknown>, string, string>;
}

/** documents — PDSm/XDS submission sets (lots de soumission). */
export interface SubmissionSetsTable {
  patient_id: string;
  id: string;
  master_identifier: string | null;
  source_id: string | null;
  author_professional_id: string | null;
  created_at: Timestamp;
}

/** audit — one row per access decision and action; append-only. */
export interface AuditEventsTable {
  patient_id: string | null;
  id: string;
  recorded_at: Timestamp;
  actor_kind: string;
  actor_id: string | null;
  actor_display: string;
  on_behalf_of: string | null;
  organization_id: string | null;
  client_id: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  outcome: 'success' | 'denied' | 'failure';
  basis: string | null;
  reason: string | null;
  request_id: string | null;
  details: ColumnType<Record<string, unknown>, string, string>;
  seq: Generated<string>;
}

export interface Database {
  organizations: OrganizationsTable;
  patients: PatientsTable;
  professionals: ProfessionalsTable;
  oauth_clients: OauthClientsTable;
  sessions: SessionsTable;
  documents: DocumentsTable;
  submission_sets: SubmissionSetsTable;
  audit_events: AuditEventsTable;
}

export type DocumentRow = Selectable<DocumentsTable>;
export type NewDocumentRow = Insertable<DocumentsTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type NewAuditEventRow = Insertable<AuditEventsTable>;
export type PatientRow = Selectable<PatientsTable>;
export type ProfessionalRow = Selectable<ProfessionalsTable>;
export type OrganizationRow = Selectable<OrganizationsTable>;
export type OauthClientRow = Selectable<OauthClientsTable>;
