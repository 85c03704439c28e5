import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** accounts — one row per run of `carnet population import` (migration 2026-11-22T0011-population). */
export interface PopulationImportsTable {
  id: string;
  /** The file name as given (no content). */
  source: string;
  started_at: Timestamp;
  finished_at: Timestamp | null;
  read_rows: ColumnType<number, number | undefined, number>;
  created: ColumnType<number, number | undefined, number>;
  children: ColumnType<number, number | undefined, number>;
  already_present: ColumnType<number, number | undefined, number>;
  rejected: ColumnType<number, number | undefined, number>;
}

/**
 * accounts — the wrapped data key of a letter notice's PDF (ciphertext in the blob store under
 * `account_notices.letter_blob_key`); deleted with its notice (crypto-shredding).
 */
export interface AccountLettersTable {
  patient_id: string;
  notice_id: string;
  key_id: string;
  wrapped_key: Buffer;
  created_at: Timestamp;
}

/** Tables of population import and notices (migration 2026-11-22T0011-population). */
export interface PopulationTables {
  population_imports: PopulationImportsTable;
  account_letters: AccountLettersTable;
}
