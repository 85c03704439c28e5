import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { AuthTables } from './schema-auth.ts';
import type { FamilyTables } from './schema-family.ts';
import type { LifecycleTables } from './schema-lifecycle.ts';
import type { PasskeysTables } from './schema-passkeys.ts';
import type { PopulationTables } from './schema-population.ts';
import type { ProTables } from './schema-pro.ts';
import type { VaccinationsTables } from './schema-vaccinations.ts';
import type { MeasurementsTables } from './schema-measurements.ts';
import type { ProfileTables } from './schema-profile.ts';

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
  /**
   * The state of the person's space (migration 0005): pending (notice sent, 6-week opposition
   * window running), opposed, open, suspended (by an operator, closes after 6 weeks), closed
   * (archived, unreadable by professionals; erased at `erase_after`).
   */
  account_status: ColumnType<AccountStatus, AccountStatus | undefined, AccountStatus>;
  status_changed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** When the person first chose credentials; null while never activated. */
  activated_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  opposition_deadline: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  suspension_deadline: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  closed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** When the erasure job deletes every row, file and key of the person. */
  erase_after: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Health-card (carte Vitale) serial number, asked at activation. */
  card_serial: ColumnType<string | null, string | null | undefined, string | null>;
  postal_address: ColumnType<PostalAddress | null, string | null | undefined, string | null>;
  origin: ColumnType<
    'registration' | 'import' | 'birth',
    'registration' | 'import' | 'birth' | undefined,
    never
  >;
  /** When the notice of a pending space (with its provisional code) was made; null: still due. */
  provisioning_notice_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** For a child from the insurer's file: the parent who declared them. */
  declared_by: ColumnType<string | null, string | null | undefined, string | null>;
}

export type SessionState = 'active' | 'second_factor' | 'enrolment';

export type AccountStatus = 'pending' | 'opposed' | 'open' | 'suspended' | 'closed';

export interface PostalAddress {
  lines: string[];
  postalCode: string;
  city: string;
  country?: string;
}

/** identity — single-use provisional codes; only a keyed hash (HMAC-SHA-256) is kept. */
export interface ProvisionalCodesTable {
  patient_id: string;
  id: string;
  code_hash: Buffer;
  issued_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

/**
 * identity — notices to a person about their space (provisioning, re-issued code, suspension,
 * majority…). A code travels sealed in `sealed_payload` until the notice is delivered, then the
 * payload is erased.
 */
export interface AccountNoticesTable {
  patient_id: string;
  id: string;
  kind: string;
  channel: 'email' | 'letter';
  sealed_payload: Buffer | null;
  created_at: Timestamp;
  delivered_at: Timestamp | null;
  letter_blob_key: string | null;
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
  /**
   * 'second_factor': the password was right, the second factor is still awaited (not signed in);
   * 'enrolment': the provisional code was right, credentials are being chosen (activation).
   */
  state: ColumnType<SessionState, SessionState | undefined, SessionState>;
  /** password+totp, password+email, passkey… */
  auth_method: ColumnType<string | null, string | null | undefined, string | null>;
  user_agent: ColumnType<string | null, string | null | undefined, string | null>;
  ip: ColumnType<string | null, string | null | undefined, string | null>;
  last_seen_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
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
  /** Hidden by the patient from professionals (DOMAIN §4.3); null follows the record's mask-by-default. */
  masked: ColumnType<boolean | null, boolean | null | undefined, boolean | null>;
  /** Delayed release (INVISIBLE_PATIENT): invisible to the patient until then. */
  release_at: Timestamp | null;
  /** When the patient was told a document awaits (2-week notice). */
  release_notice_at: Timestamp | null;
  /** When a delayed document became visible and the patient was told. */
  released_at: Timestamp | null;
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
  /** TRE_G15 profession code of a professional actor (migration 0003). */
  actor_profession: ColumnType<string | null, string | null | undefined, string | null>;
  /** Place in the patient's chain, set by the sealer; null until sealed (bigint: a string on pg, a number on PGlite). */
  chain_index: ColumnType<string | number | null, never, string | number>;
  /** SHA-256(previous chain_hash ‖ canonical event), set by the sealer. */
  chain_hash: ColumnType<Uint8Array | null, never, Uint8Array>;
}

/** access — one row per rule a person's record carries; revoked rules are kept for the history. */
export interface AccessRulesTable {
  patient_id: string;
  id: string;
  kind: 'care_team' | 'consent' | 'role' | 'block' | 'share' | 'emergency' | 'representation' | 'app';
  professional_id: string | null;
  person_id: string | null;
  document_id: string | null;
  role: string | null;
  channel: string | null;
  reason: string | null;
  scopes: string[];
  starts_at: Timestamp;
  ends_at: Timestamp | null;
  revoked_at: Timestamp | null;
  created_at: Timestamp;
  created_by: string;
  details: ColumnType<Record<string, unknown>, string | undefined, string>;
}

/** access */
export interface PrivacySettingsTable {
  patient_id: string;
  mask_by_default: boolean;
  samu_access: boolean;
  break_glass_access: boolean;
  emergency_includes_masked: boolean;
  updated_at: Timestamp;
}

export interface Database
  extends
    ProfileTables,
    AuthTables,
    PasskeysTables,
    ProTables,
    LifecycleTables,
    FamilyTables,
    PopulationTables,
    VaccinationsTables,
    MeasurementsTables {
  provisional_codes: ProvisionalCodesTable;
  account_notices: AccountNoticesTable;
  organizations: OrganizationsTable;
  patients: PatientsTable;
  professionals: ProfessionalsTable;
  oauth_clients: OauthClientsTable;
  sessions: SessionsTable;
  documents: DocumentsTable;
  submission_sets: SubmissionSetsTable;
  audit_events: AuditEventsTable;
  audit_chain_heads: AuditChainHeadsTable;
  audit_disputes: AuditDisputesTable;
  audit_dispute_changes: AuditDisputeChangesTable;
  access_rules: AccessRulesTable;
  privacy_settings: PrivacySettingsTable;
  notifications: NotificationsTable;
  notification_inbox: NotificationInboxTable;
  notification_deliveries: NotificationDeliveriesTable;
  notification_preferences: NotificationPreferencesTable;
  notification_settings: NotificationSettingsTable;
  scheduled_jobs: ScheduledJobsTable;
}

export type DocumentRow = Selectable<DocumentsTable>;
export type NewDocumentRow = Insertable<DocumentsTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type NewAuditEventRow = Insertable<AuditEventsTable>;
export type PatientRow = Selectable<PatientsTable>;
export type ProfessionalRow = Selectable<ProfessionalsTable>;
export type OrganizationRow = Selectable<OrganizationsTable>;
export type OauthClientRow = Selectable<OauthClientsTable>;
export type AccessRuleRow = Selectable<AccessRulesTable>;
export type PrivacySettingsRow = Selectable<PrivacySettingsTable>;

/** audit — the last link of each patient's chain (events without a patient: the all-zero uuid). */
export interface AuditChainHeadsTable {
  patient_id: string;
  chain_index: ColumnType<string | number, string | number, string | number>;
  chain_hash: Uint8Array;
  updated_at: Timestamp;
}

/** audit — "report this access": a person disputes an event of their record. */
export interface AuditDisputesTable {
  patient_id: string;
  id: string;
  event_id: string;
  status: 'open' | 'in_review' | 'resolved' | 'rejected';
  comment: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** audit — every status change of a dispute, its opening included. */
export interface AuditDisputeChangesTable {
  patient_id: string;
  dispute_id: string;
  id: string;
  at: Timestamp;
  from_status: string | null;
  to_status: string;
  actor_kind: string;
  actor_id: string | null;
  note: string | null;
}

export type AuditDisputeRow = Selectable<AuditDisputesTable>;
export type AuditDisputeChangeRow = Selectable<AuditDisputeChangesTable>;

/** notifications — the outbox: one row per notification, written in the transaction of its event. */
export interface NotificationsTable {
  patient_id: string;
  id: string;
  type: string;
  /** Ids and non-medical facts only (checked per type when enqueued). */
  data: ColumnType<Record<string, unknown>, string, string>;
  mandatory: boolean;
  /** Same key, same patient: one notification (e.g. one per professional access session). */
  coalesce_key: string | null;
  created_at: Timestamp;
  /** When the relay turned it into delivery jobs. */
  relayed_at: Timestamp | null;
}

/** notifications — the in-app notification centre (id = the notification's id). */
export interface NotificationInboxTable {
  patient_id: string;
  id: string;
  type: string;
  title: string;
  body: string;
  created_at: Timestamp;
  read_at: Timestamp | null;
}

/** notifications — one row per (notification, channel) once delivered or skipped: the exactly-once record. */
export interface NotificationDeliveriesTable {
  patient_id: string;
  notification_id: string;
  channel: 'in_app' | 'email' | 'push';
  outcome: 'delivered' | 'skipped';
  detail: string | null;
  attempt: number;
  recorded_at: Timestamp;
}

/** notifications — a type turned on or off on a channel (absent: on). */
export interface NotificationPreferencesTable {
  patient_id: string;
  type: string;
  channel: 'in_app' | 'email' | 'push';
  enabled: boolean;
  updated_at: Timestamp;
}

/** notifications */
export interface NotificationSettingsTable {
  patient_id: string;
  language: 'fr' | 'en';
  updated_at: Timestamp;
}

/** notifications — jobs other modules schedule (in their own transaction); run through pg-boss. Ids only in data. */
export interface ScheduledJobsTable {
  id: string;
  name: string;
  key: string | null;
  data: ColumnType<Record<string, unknown>, string, string>;
  run_at: Timestamp;
  created_at: Timestamp;
  relayed_at: Timestamp | null;
  completed_at: Timestamp | null;
  cancelled_at: Timestamp | null;
}

export type NotificationRow = Selectable<NotificationsTable>;
export type NotificationInboxRow = Selectable<NotificationInboxTable>;
export type ScheduledJobRow = Selectable<ScheduledJobsTable>;
