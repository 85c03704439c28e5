import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Population import: one row per run of `carnet population import` (what was read, created,
 * skipped, rejected), and the wrapped data key of each letter notice (the letter PDF itself is
 * ciphertext in the blob store; deleting the notice deletes its key: the letter is unreadable).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    create table population_imports (
      id uuid primary key,
      source text not null,
      started_at timestamptz not null,
      finished_at timestamptz,
      read_rows integer not null default 0,
      created integer not null default 0,
      children integer not null default 0,
      already_present integer not null default 0,
      rejected integer not null default 0
    );

    create table account_letters (
      patient_id uuid not null,
      notice_id uuid not null,
      key_id text not null,
      wrapped_key bytea not null,
      created_at timestamptz not null,
      primary key (patient_id, notice_id),
      foreign key (patient_id, notice_id) references account_notices (patient_id, id) on delete cascade
    );
    `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    drop table account_letters;
    drop table population_imports;
    `,
  );
}
