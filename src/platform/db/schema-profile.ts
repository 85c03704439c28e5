import type { ColumnType } from 'kysely';

/** Tables of the medical profile (sections, entries, history of changes) (migration 2026-11-22T0013-profile). */

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Nullable<T> = ColumnType<T | null, T | null | undefined, T | null>;
type Json = ColumnType<unknown, string, string>;

export type ProfileAuthorKind = 'patient' | 'representative' | 'app' | 'professional' | 'import';
export type ProfileEntryStatus = 'current' | 'replaced' | 'deleted';
export type ProfileChangeKind =
  'created' | 'updated' | 'deleted' | 'replaced' | 'not_concerned' | 'concerned';

/** profile — the state of a section of a person's profile, once someone declared it ("not concerned"). */
export interface ProfileSectionsTable {
  patient_id: string;
  section: string;
  not_concerned: boolean;
  updated_at: Timestamp;
  author_kind: string;
  author_id: Nullable<string>;
  author_display: string;
}

/** profile — one entry of a section (an allergy, a treatment, the blood group…), with its provenance. */
export interface ProfileEntriesTable {
  patient_id: string;
  id: string;
  section: string;
  /** The section's structured fields (validated by the section's schema), as JSON. */
  fields: Json;
  status: ProfileEntryStatus;
  author_kind: ProfileAuthorKind;
  author_id: Nullable<string>;
  author_display: string;
  /** Import source (e.g. a bundle's system) and the entry's id there: the import is idempotent on them. */
  source: Nullable<string>;
  external_id: Nullable<string>;
  /** The Idempotency-Key of the request that created it. */
  idempotency_key: Nullable<string>;
  /** For a single-value section: the entry that replaced this one. */
  replaced_by: Nullable<string>;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: NullableTimestamp;
}

/** profile — the history of changes: each creation, edit, replacement, deletion and section state change. */
export interface ProfileEntryChangesTable {
  patient_id: string;
  id: string;
  section: string;
  entry_id: Nullable<string>;
  change: ProfileChangeKind;
  at: Timestamp;
  author_kind: string;
  author_id: Nullable<string>;
  author_display: string;
  /** Names of the fields that changed (JSON array). */
  changed: Json;
  /** The entry's fields after the change (before it, for a deletion), as JSON. */
  fields: ColumnType<unknown, string | null | undefined, string | null>;
}

export interface ProfileTables {
  profile_sections: ProfileSectionsTable;
  profile_entries: ProfileEntriesTable;
  profile_entry_changes: ProfileEntryChangesTable;
}
