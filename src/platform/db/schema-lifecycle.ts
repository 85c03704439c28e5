import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** accounts — an opposition to the creation of a space; `reference` is printed on the proof. */
export interface AccountOppositionsTable {
  patient_id: string;
  id: string;
  reference: string;
  opposed_at: Timestamp;
  channel: 'online' | 'operator';
  /** Keyed hash of the provisional code used, so that the same request sent again gets the same answer. */
  code_hash: Buffer | null;
}

/** accounts — an operator's suspension of a space (fraud): closed after `deadline` unless lifted. */
export interface AccountSuspensionsTable {
  patient_id: string;
  id: string;
  reason: string;
  operator_id: string;
  suspended_at: Timestamp;
  deadline: Timestamp;
  ended_at: Timestamp | null;
  outcome: 'lifted' | 'closed' | null;
  ended_by: string | null;
}

/** accounts — a closure of a space, until it is re-opened (or erased with the space). */
export interface AccountClosuresTable {
  patient_id: string;
  id: string;
  closed_at: Timestamp;
  cause: 'request' | 'operator' | 'suspension';
  actor_kind: string;
  actor_id: string | null;
  erasure_requested: ColumnType<boolean, boolean | undefined, boolean>;
  reopened_at: Timestamp | null;
}

/** accounts — files an erasure still has to delete (empty but for a crash between commit and deletion). */
export interface ErasurePendingBlobsTable {
  blob_key: string;
  queued_at: Timestamp;
}

/** Tables of life events (opposition, closure, suspension, erasure) (migration 2026-11-22T0009-life-events). */
export interface LifecycleTables {
  account_oppositions: AccountOppositionsTable;
  account_suspensions: AccountSuspensionsTable;
  account_closures: AccountClosuresTable;
  erasure_pending_blobs: ErasurePendingBlobsTable;
}
