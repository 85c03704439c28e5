import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Account lifecycle foundations (DOMAIN §1–§2): the state of each person's space, the facts the
 * insurer's file brings (health-card serial, postal address), single-use provisional codes (kept
 * only as keyed hashes) and the notices that carry them, and richer patient sessions (second
 * factor pending, device, last use). Persons already present are open and, when they have a
 * password, activated.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    alter table patients add column account_status text not null default 'open'
      check (account_status in ('pending','opposed','open','suspended','closed'));
    alter table patients add column status_changed_at timestamptz;
    alter table patients add column activated_at timestamptz;
    alter table patients add column opposition_deadline timestamptz;
    alter table patients add column suspension_deadline timestamptz;
    alter table patients add column closed_at timestamptz;
    alter table patients add column erase_after timestamptz;
    alter table patients add column card_serial text;
    alter table patients add column postal_address jsonb;
    alter table patients add column origin text not null default 'registration'
      check (origin in ('registration','import','birth'));
    alter table patients add column declared_by uuid;
    update patients set activated_at = created_at where password_hash is not null;
    create index patients_opposition_due on patients (opposition_deadline) where account_status = 'pending';
    create index patients_suspension_due on patients (suspension_deadline) where account_status = 'suspended';
    create index patients_erase_due on patients (erase_after) where erase_after is not null;
    create index patients_birth_date on patients (birth_date);

    create table provisional_codes (
      patient_id uuid not null references patients(id),
      id uuid not null,
      code_hash bytea not null,
      issued_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz,
      revoked_at timestamptz,
      primary key (patient_id, id)
    );
    create index provisional_codes_live on provisional_codes (patient_id) where used_at is null and revoked_at is null;

    create table account_notices (
      patient_id uuid not null references patients(id),
      id uuid not null,
      kind text not null,
      channel text not null check (channel in ('email','letter')),
      sealed_payload bytea,
      created_at timestamptz not null,
      delivered_at timestamptz,
      letter_blob_key text,
      primary key (patient_id, id)
    );
    create index account_notices_pending on account_notices (created_at) where delivered_at is null;

    alter table sessions add column state text not null default 'active' check (state in ('active','second_factor','enrolment'));
    alter table sessions add column auth_method text;
    alter table sessions add column user_agent text;
    alter table sessions add column ip text;
    alter table sessions add column last_seen_at timestamptz;
    create index sessions_patient_live on sessions (patient_id) where revoked_at is null;
    `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    drop index sessions_patient_live;
    alter table sessions drop column last_seen_at;
    alter table sessions drop column ip;
    alter table sessions drop column user_agent;
    alter table sessions drop column auth_method;
    alter table sessions drop column state;
    drop table account_notices;
    drop table provisional_codes;
    drop index patients_birth_date;
    drop index patients_erase_due;
    drop index patients_suspension_due;
    drop index patients_opposition_due;
    alter table patients drop column declared_by;
    alter table patients drop column origin;
    alter table patients drop column postal_address;
    alter table patients drop column card_serial;
    alter table patients drop column erase_after;
    alter table patients drop column closed_at;
    alter table patients drop column suspension_deadline;
    alter table patients drop column opposition_deadline;
    alter table patients drop column activated_at;
    alter table patients drop column status_changed_at;
    alter table patients drop column account_status;
    `,
  );
}
