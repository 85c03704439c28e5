import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Children, legal representatives and caregivers (DOMAIN §2). An invitation sits in the record of
 * the person concerned (the child, the person helped): who invited, whom, in which role, with which
 * scopes and end date, and where it stands (pending, accepted, refused, expired, revoked). The
 * representation itself is an access rule (access module); the invitation keeps its id.
 * `family_majority` marks the people the majority job already invited to activate (once each).
 * No foreign key names the invitee or the inviter: erasing one person never blocks on another's record.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    create table family_invitations (
      patient_id uuid not null references patients(id),
      id uuid not null,
      role text not null check (role in ('legal_representative','caregiver')),
      invited_by uuid not null,
      invitee_id uuid not null,
      scopes text[] not null default '{}',
      ends_at timestamptz,
      status text not null check (status in ('pending','accepted','refused','expired','revoked')),
      expires_at timestamptz not null,
      created_at timestamptz not null,
      responded_at timestamptz,
      revoked_at timestamptz,
      revoked_by text,
      rule_id uuid,
      primary key (patient_id, id)
    );
    create index family_invitations_id on family_invitations (id);
    create index family_invitations_invitee on family_invitations (invitee_id, status);
    create index family_invitations_inviter on family_invitations (invited_by);
    create index family_invitations_pending_due on family_invitations (expires_at) where status = 'pending';
    create unique index family_invitations_one_pending on family_invitations (patient_id, invitee_id, role)
      where status = 'pending';

    create table family_majority (
      patient_id uuid not null references patients(id),
      processed_at timestamptz not null,
      invited boolean not null,
      primary key (patient_id)
    );
    `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    drop table family_majority;
    drop table family_invitations;
    `,
  );
}
