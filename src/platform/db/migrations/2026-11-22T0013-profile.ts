import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * The medical profile (DOMAIN §6): per-section states (an explicit "not concerned"), the entries of
 * each section with their provenance (author kind, author, import source and external id, the
 * client's idempotency key), and the history of every change (who, when, what).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    create table profile_sections (
      patient_id uuid not null references patients(id),
      section text not null,
      not_concerned boolean not null default false,
      updated_at timestamptz not null,
      author_kind text not null,
      author_id text,
      author_display text not null,
      primary key (patient_id, section)
    );

    create table profile_entries (
      patient_id uuid not null references patients(id),
      id uuid not null,
      section text not null,
      fields jsonb not null,
      status text not null check (status in ('current','replaced','deleted')),
      author_kind text not null check (author_kind in ('patient','representative','app','professional','import')),
      author_id text,
      author_display text not null,
      source text,
      external_id text,
      idempotency_key text,
      replaced_by uuid,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      deleted_at timestamptz,
      primary key (patient_id, id)
    );
    create index profile_entries_section on profile_entries (patient_id, section, created_at) where status = 'current';
    create unique index profile_entries_external on profile_entries (patient_id, source, external_id) where external_id is not null;
    create unique index profile_entries_idempotency on profile_entries (patient_id, idempotency_key) where idempotency_key is not null;
    create index profile_entries_id on profile_entries (id);

    create table profile_entry_changes (
      patient_id uuid not null references patients(id),
      id uuid not null,
      section text not null,
      entry_id uuid,
      change text not null check (change in ('created','updated','deleted','replaced','not_concerned','concerned')),
      at timestamptz not null,
      author_kind text not null,
      author_id text,
      author_display text not null,
      changed jsonb not null,
      fields jsonb,
      primary key (patient_id, id)
    );
    create index profile_entry_changes_entry on profile_entry_changes (patient_id, entry_id, at);
    `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    drop table profile_entry_changes;
    drop table profile_entries;
    drop table profile_sections;
    `,
  );
}
