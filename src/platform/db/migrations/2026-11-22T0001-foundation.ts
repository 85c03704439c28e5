import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/** Foundation: identities, documents, submission sets, audit events. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    create table organizations (
      id uuid primary key,
      finess text unique,
      name text not null,
      kind text not null,
      created_at timestamptz not null default now()
    );

    create table patients (
      id uuid primary key,
      ins_matricule text not null,
      ins_oid text not null,
      given text not null,
      family text not null,
      birth_date date not null,
      sex text not null check (sex in ('M','F','U')),
      birthplace_code text,
      email text,
      login text unique,
      password_hash text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (ins_matricule, ins_oid)
    );

    create table professionals (
      id uuid primary key,
      rpps text not null unique check (rpps ~ '^[0-9]{11}$'),
      profession_code text not null,
      specialty_code text,
      given text not null,
      family text not null,
      active boolean not null default true,
      created_at timestamptz not null default now()
    );

    create table oauth_clients (
      id uuid primary key,
      client_id text not null unique,
      secret_hash bytea not null,
      organization_id uuid not null references organizations(id),
      professional_id uuid not null references professionals(id),
      name text not null,
      active boolean not null default true,
      created_at timestamptz not null default now()
    );

    create table sessions (
      patient_id uuid not null references patients(id),
      id uuid not null,
      token_hash bytea not null unique,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      revoked_at timestamptz,
      primary key (patient_id, id)
    );

    create table submission_sets (
      patient_id uuid not null references patients(id),
      id uuid not null,
      master_identifier text,
      source_id text,
      author_professional_id uuid references professionals(id),
      created_at timestamptz not null default now(),
      primary key (patient_id, id),
      unique (patient_id, master_identifier)
    );

    create table documents (
      patient_id uuid not null references patients(id),
      id uuid not null,
      master_identifier text not null,
      status text not null check (status in ('current','superseded')),
      source text not null check (source in ('professional','patient')),
      type_system text,
      type_code text,
      type_display text,
      class_code text,
      category text not null,
      title text not null,
      document_date timestamptz not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      author_professional_id uuid references professionals(id),
      author_organization_id uuid references organizations(id),
      author_display text not null,
      media_type text not null,
      format_code text,
      language text,
      size integer not null check (size >= 0),
      sha256 bytea not null,
      sha1 text not null,
      blob_key text not null,
      key_id text not null,
      wrapped_key bytea not null,
      confidentiality text[] not null default '{N}',
      replaces_id uuid,
      submission_set_id uuid,
      read_at timestamptz,
      extra jsonb not null default '{}',
      primary key (patient_id, id),
      unique (patient_id, master_identifier)
    );
    create index documents_by_id on documents (id);
    create index documents_patient_created on documents (patient_id, created_at desc, id desc);
    create index documents_author on documents (patient_id, author_professional_id);

    create table audit_events (
      patient_id uuid,
      id uuid not null,
      seq bigint generated always as identity,
      recorded_at timestamptz not null,
      actor_kind text not null,
      actor_id text,
      actor_display text not null,
      on_behalf_of text,
      organization_id uuid,
      client_id text,
      action text not null,
      entity_type text not null,
      entity_id text,
      outcome text not null check (outcome in ('success','denied','failure')),
      basis text,
      reason text,
      request_id text,
      details jsonb not null default '{}'
    );
    create unique index audit_events_pk on audit_events (patient_id, id);
    create index audit_events_patient_time on audit_events (patient_id, recorded_at desc, seq desc);
  `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    drop table audit_events;
    drop table documents;
    drop table submission_sets;
    drop table sessions;
    drop table oauth_clients;
    drop table professionals;
    drop table patients;
    drop table organizations;
  `,
  );
}
