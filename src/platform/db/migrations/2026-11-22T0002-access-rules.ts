import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * The trust core: a person's access rules (care team, consents, roles, blocks, shares, emergency
 * accesses, representations), their privacy settings, and the document facts the decision needs
 * (patient masking, delayed release).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    create table access_rules (
      patient_id uuid not null references patients(id),
      id uuid not null,
      kind text not null check (kind in ('care_team','consent','role','block','share','emergency','representation','app')),
      professional_id uuid references professionals(id),
      person_id uuid references patients(id),
      document_id uuid,
      role text check (role in ('gp','administrator','referent_midwife','correspondent_pharmacist','legal_representative','caregiver','guardian')),
      channel text,
      reason text,
      scopes text[] not null default '{}',
      starts_at timestamptz not null,
      ends_at timestamptz,
      revoked_at timestamptz,
      created_at timestamptz not null,
      created_by text not null,
      details jsonb not null default '{}',
      primary key (patient_id, id)
    );
    create index access_rules_live on access_rules (patient_id) where revoked_at is null;
    create index access_rules_person on access_rules (person_id) where person_id is not null and revoked_at is null;

    create table privacy_settings (
      patient_id uuid primary key references patients(id),
      mask_by_default boolean not null default false,
      samu_access boolean not null default true,
      break_glass_access boolean not null default true,
      emergency_includes_masked boolean not null default false,
      updated_at timestamptz not null
    );

    alter table documents add column masked boolean;
    alter table documents add column release_at timestamptz;
    alter table documents add column release_notice_at timestamptz;
    alter table documents add column released_at timestamptz;
    create index documents_pending_release on documents (release_at) where release_at is not null and released_at is null;
    `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    drop index documents_pending_release;
    alter table documents drop column released_at;
    alter table documents drop column release_notice_at;
    alter table documents drop column release_at;
    alter table documents drop column masked;
    drop table privacy_settings;
    drop table access_rules;
    `,
  );
}
