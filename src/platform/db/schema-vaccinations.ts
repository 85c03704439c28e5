import type { ColumnType } from 'kysely';

/** Tables of vaccinations (migration 2026-11-22T0015-vaccinations). */

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string, string>;
type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>;

export type VaccinationAuthorKind = 'patient' | 'representative' | 'app' | 'professional' | 'import';

export interface VaccinationsTable {
  patient_id: string;
  id: string;
  status: 'completed' | 'not-done';
  status_reason: string | null;
  product_system: string | null;
  product_code: string | null;
  product_display: string;
  target_diseases: Json<string[]>;
  occurred_on: string;
  lot_number: string | null;
  vaccinator_rpps: string | null;
  vaccinator_display: string | null;
  kind: 'primary' | 'booster' | 'catch-up' | null;
  dose_number: number | null;
  comment: string | null;
  author_kind: VaccinationAuthorKind;
  author_id: string | null;
  author_display: string;
  confirmed_at: NullableTimestamp;
  confirmed_by_id: string | null;
  confirmed_by_display: string | null;
  source: string | null;
  external_id: string | null;
  idempotency_key: string | null;
  extra: NullableJson<Record<string, unknown>>;
  version: number;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: NullableTimestamp;
}

export interface VaccinationChangesTable {
  patient_id: string;
  vaccination_id: string;
  version: number;
  change: 'create' | 'update' | 'confirm' | 'delete';
  changed_at: Timestamp;
  actor_kind: string;
  actor_id: string | null;
  actor_display: string;
  snapshot: Json<Record<string, unknown>>;
}

export interface VaccinationsTables {
  vaccinations: VaccinationsTable;
  vaccination_changes: VaccinationChangesTable;
}
