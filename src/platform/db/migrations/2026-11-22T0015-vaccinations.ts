import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Vaccinations (DOMAIN §6): one row per entry of the vaccination record, with its provenance, its
 * confirmation by a professional, and the keys that make creation idempotent (Idempotency-Key of
 * the API, (source, external id) of imports and FHIR identifiers). Every change is kept as a full
 * snapshot in vaccination_changes (version 1 = creation); a deletion is soft (deleted_at) so the
 * history stays readable.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    create table vaccinations (
      patient_id uuid not null references patients(id),
      id uuid not null,
      status text not null default 'completed' check (status in ('completed','not-done')),
      status_reason text,
      product_system text,
      product_code text,
      product_display text not null,
      target_diseases jsonb not null,
      occurred_on text not null,
      lot_number text,
      vaccinator_rpps text,
      vaccinator_display text,
      kind text check (kind in ('primary','booster','catch-up')),
      dose_number integer check (dose_number between 1 and 20),
      comment text,
      author_kind text not null
        check (author_kind in ('patient','representative','app','professional','import')),
      author_id text,
      author_display text not null,
      confirmed_at timestamptz,
      confirmed_by_id text,
      confirmed_by_display text,
      source text,
      external_id text,
      idempotency_key text,
      extra jsonb,
      version integer not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      deleted_at timestamptz,
      primary key (patient_id, id)
    );
    create unique index vaccinations_id on vaccinations (id);
    create unique index vaccinations_external on vaccinations (patient_id, source, external_id)
      where external_id is not null;
    create unique index vaccinations_idempotency on vaccinations (patient_id, idempotency_key)
      where idempotency_key is not null;
    create index vaccinations_by_date on vaccinations (patient_id, occurred_on);

    create table vaccination_changes (
      patient_id uuid not null references patients(id),
      vaccination_id uuid not null,
      version integer not null,
      change text not null check (change in ('create','update','confirm','delete')),
      changed_at timestamptz not null,
      actor_kind text not null,
      actor_id text,
      actor_display text not null,
      snapshot jsonb not null,
      primary key (patient_id, vaccination_id, version)
    );
    `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    drop table if exists vaccination_changes;
    drop table if exists vaccinations;
    `,
  );
}
