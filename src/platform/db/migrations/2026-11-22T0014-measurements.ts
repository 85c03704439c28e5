import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Health measurements (DOMAIN §6): one row per entry (a blood-pressure panel is one entry holding
 * both values), its provenance, a version counter and a soft deletion; every change is kept in
 * measurement_changes (the entry as it was before); targets agreed with a doctor, one per type.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    create table measurements (
      patient_id uuid not null references patients(id),
      id uuid not null,
      type text not null,
      values_json jsonb not null,
      effective text not null,
      effective_at timestamptz not null,
      author_kind text not null
        check (author_kind in ('patient','representative','app','professional','import')),
      author_id text,
      author_display text not null,
      comment text,
      source_document_id uuid,
      source text,
      external_id text,
      idempotency_key text,
      device jsonb,
      version integer not null default 1,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      deleted_at timestamptz,
      primary key (patient_id, id)
    );
    create index measurements_by_type on measurements (patient_id, type, effective_at);
    create unique index measurements_external on measurements (patient_id, source, external_id)
      where external_id is not null;
    create unique index measurements_idempotency on measurements (patient_id, idempotency_key)
      where idempotency_key is not null;

    create table measurement_changes (
      patient_id uuid not null,
      measurement_id uuid not null,
      version integer not null,
      action text not null check (action in ('create','update','delete')),
      changed_at timestamptz not null,
      actor_kind text not null,
      actor_id text,
      actor_display text not null,
      before jsonb,
      primary key (patient_id, measurement_id, version),
      foreign key (patient_id, measurement_id) references measurements(patient_id, id)
    );

    create table measurement_targets (
      patient_id uuid not null references patients(id),
      type text not null,
      low double precision,
      high double precision,
      set_by_kind text not null,
      set_by_id text,
      set_by_display text not null,
      since text not null,
      updated_at timestamptz not null,
      primary key (patient_id, type)
    );
    `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    drop table if exists measurement_targets;
    drop table if exists measurement_changes;
    drop table if exists measurements;
    `,
  );
}
