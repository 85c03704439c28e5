import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Notifications (module notifications): the outbox written in the transaction of the event, the
 * in-app notification centre, one row per delivery (exactly once per notification and channel),
 * preferences, and the scheduled jobs other modules ask for. The job queue itself (pg-boss) keeps
 * its own schema, installed and migrated by pg-boss at start.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    create table notifications (
      patient_id uuid not null references patients(id),
      id uuid not null,
      type text not null,
      data jsonb not null default '{}',
      mandatory boolean not null,
      coalesce_key text,
      created_at timestamptz not null,
      relayed_at timestamptz,
      primary key (patient_id, id),
      unique (patient_id, coalesce_key)
    );
    create index notifications_unrelayed on notifications (created_at, id) where relayed_at is null;

    create table notification_inbox (
      patient_id uuid not null references patients(id),
      id uuid not null,
      type text not null,
      title text not null,
      body text not null,
      created_at timestamptz not null,
      read_at timestamptz,
      primary key (patient_id, id)
    );
    create index notification_inbox_recent on notification_inbox (patient_id, created_at desc, id desc);

    create table notification_deliveries (
      patient_id uuid not null references patients(id),
      notification_id uuid not null,
      channel text not null check (channel in ('in_app','email','push')),
      outcome text not null check (outcome in ('delivered','skipped')),
      detail text,
      attempt integer not null,
      recorded_at timestamptz not null,
      primary key (patient_id, notification_id, channel)
    );

    create table notification_preferences (
      patient_id uuid not null references patients(id),
      type text not null,
      channel text not null check (channel in ('in_app','email','push')),
      enabled boolean not null,
      updated_at timestamptz not null,
      primary key (patient_id, type, channel)
    );

    create table notification_settings (
      patient_id uuid not null references patients(id),
      language text not null check (language in ('fr','en')),
      updated_at timestamptz not null,
      primary key (patient_id)
    );

    create table scheduled_jobs (
      id uuid primary key,
      name text not null,
      key text,
      data jsonb not null default '{}',
      run_at timestamptz not null,
      created_at timestamptz not null,
      relayed_at timestamptz,
      completed_at timestamptz,
      cancelled_at timestamptz,
      unique (name, key)
    );
    create index scheduled_jobs_due on scheduled_jobs (run_at, id) where completed_at is null and cancelled_at is null;
    create index scheduled_jobs_unrelayed on scheduled_jobs (created_at, id) where relayed_at is null;
  `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    drop table scheduled_jobs;
    drop table notification_settings;
    drop table notification_preferences;
    drop table notification_deliveries;
    drop table notification_inbox;
    drop table notifications;
  `,
  );
}
