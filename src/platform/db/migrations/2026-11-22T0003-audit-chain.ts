import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Audit trail, second step: tamper evidence and disputes.
 *
 * - Events are inserted unchained by the action's transaction; a sealer later gives each one its
 *   place in its patient's chain (`chain_index` 1, 2, 3…) and `chain_hash` = SHA-256(previous hash ‖
 *   canonical event). The partial index finds the unsealed ones without scanning the table.
 * - `audit_chain_heads` holds each chain's last link; sealers lock that row, so two never interleave.
 *   Events without a patient form one chain under the all-zero uuid.
 * - `actor_profession`: the TRE_G15 profession of a professional actor, for the activity history.
 * - Disputes ("report this access") on an event of the patient's record, with their status history.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    alter table audit_events add column actor_profession text;
    alter table audit_events add column chain_index bigint;
    alter table audit_events add column chain_hash bytea;
    create index audit_events_unsealed on audit_events (patient_id, seq) where chain_index is null;
    create unique index audit_events_chain on audit_events (patient_id, chain_index) where chain_index is not null;

    create table audit_chain_heads (
      patient_id uuid not null primary key,
      chain_index bigint not null check (chain_index >= 0),
      chain_hash bytea not null,
      updated_at timestamptz not null
    );

    create table audit_disputes (
      patient_id uuid not null references patients(id),
      id uuid not null,
      event_id uuid not null,
      status text not null check (status in ('open','in_review','resolved','rejected')),
      comment text not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      primary key (patient_id, id),
      foreign key (patient_id, event_id) references audit_events (patient_id, id)
    );
    create index audit_disputes_by_id on audit_disputes (id);
    create unique index audit_disputes_one_pending on audit_disputes (patient_id, event_id)
      where status in ('open','in_review');

    create table audit_dispute_changes (
      patient_id uuid not null,
      dispute_id uuid not null,
      id uuid not null,
      at timestamptz not null,
      from_status text,
      to_status text not null,
      actor_kind text not null,
      actor_id text,
      note text,
      primary key (patient_id, dispute_id, id),
      foreign key (patient_id, dispute_id) references audit_disputes (patient_id, id)
    );
  `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    drop table audit_dispute_changes;
    drop table audit_disputes;
    drop table audit_chain_heads;
    drop index audit_events_chain;
    drop index audit_events_unsealed;
    alter table audit_events drop column chain_hash;
    alter table audit_events drop column chain_index;
    alter table audit_events drop column actor_profession;
  `,
  );
}
