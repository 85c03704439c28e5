import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string, string>;
type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>;

/** measurements — one entry (a panel holds all its values), canonical units, provenance. */
export interface MeasurementsTable {
  patient_id: string;
  id: string;
  type: string;
  /** Canonical values by type id: { weight: 70.2 } or { systolic: 120, diastolic: 80 }. */
  values_json: Json<Record<string, number>>;
  /** The effective time as given (FHIR date or dateTime). */
  effective: string;
  effective_at: Timestamp;
  author_kind: 'patient' | 'representative' | 'app' | 'professional' | 'import';
  author_id: string | null;
  author_display: string;
  comment: string | null;
  source_document_id: string | null;
  source: string | null;
  external_id: string | null;
  idempotency_key: string | null;
  device: NullableJson<Record<string, unknown>>;
  version: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: NullableTimestamp;
}

/** measurements — the history: the entry as it was before each change. */
export interface MeasurementChangesTable {
  patient_id: string;
  measurement_id: string;
  version: number;
  action: 'create' | 'update' | 'delete';
  changed_at: Timestamp;
  actor_kind: string;
  actor_id: string | null;
  actor_display: string;
  before: NullableJson<Record<string, unknown>>;
}

/** measurements — targets agreed with a doctor, one per type. */
export interface MeasurementTargetsTable {
  patient_id: string;
  type: string;
  low: number | null;
  high: number | null;
  set_by_kind: string;
  set_by_id: string | null;
  set_by_display: string;
  since: string;
  updated_at: Timestamp;
}

/** Tables of health measurements, targets (migration 2026-11-22T0014-measurements). */
export interface MeasurementsTables {
  measurements: MeasurementsTable;
  measurement_changes: MeasurementChangesTable;
  measurement_targets: MeasurementTargetsTable;
}
