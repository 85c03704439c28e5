import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Life events of a space (DOMAIN §2): oppositions (with the reference printed on the proof),
 * operator suspensions (reason, 6-week deadline, how they ended), closures (cause, erasure asked,
 * re-opening), and the files an erasure still has to delete (drained right after the erasure
 * commits; what a crash leaves there is deleted by the next run of the erasure job).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    create table account_oppositions (
      patient_id uuid not null references patients(id),
      id uuid not null,
      reference text not null unique,
      opposed_at timestamptz not null,
      channel text not null check (channel in ('online','operator')),
      code_hash bytea,
      primary key (patient_id, id)
    );

    create table account_suspensions (
      patient_id uuid not null references patients(id),
      id uuid not null,
      reason text not null,
      operator_id text not null,
      suspended_at timestamptz not null,
      deadline timestamptz not null,
      ended_at timestamptz,
      outcome text check (outcome in ('lifted','closed')),
      ended_by text,
      primary key (patient_id, id)
    );
    create unique index account_suspensions_live on account_suspensions (patient_id) where ended_at is null;

    create table account_closures (
      patient_id uuid not null references patients(id),
      id uuid not null,
      closed_at timestamptz not null,
      cause text not null check (cause in ('request','operator','suspension')),
      actor_kind text not null,
      actor_id text,
      erasure_requested boolean not null default false,
      reopened_at timestamptz,
      primary key (patient_id, id)
    );
    create unique index account_closures_live on account_closures (patient_id) where reopened_at is null;

    create table erasure_pending_blobs (
      blob_key text primary key,
      queued_at timestamptz not null
    );
    `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    drop table erasure_pending_blobs;
    drop table account_closures;
    drop table account_suspensions;
    drop table account_oppositions;
    `,
  );
}
