import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Passkeys (WebAuthn, DOMAIN §1): each person's registered credentials (public key, signature
 * counter, device name, revocation) and the single-use challenges handed to browsers (about five
 * minutes each; registration challenges name the person, sign-in challenges name nobody).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    create table webauthn_credentials (
      patient_id uuid not null references patients(id),
      id uuid not null,
      credential_id text not null,
      public_key bytea not null,
      counter bigint not null default 0,
      transports text[] not null default '{}',
      name text not null,
      aaguid text not null,
      backed_up boolean not null default false,
      created_at timestamptz not null,
      last_used_at timestamptz,
      revoked_at timestamptz,
      primary key (patient_id, id)
    );
    create unique index webauthn_credentials_credential_id on webauthn_credentials (credential_id);

    create table webauthn_challenges (
      id uuid primary key,
      patient_id uuid references patients(id),
      session_id uuid,
      kind text not null check (kind in ('registration','authentication')),
      challenge text not null,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz
    );
    create unique index webauthn_challenges_challenge on webauthn_challenges (challenge);
    create index webauthn_challenges_expiry on webauthn_challenges (expires_at);
    `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    drop table webauthn_challenges;
    drop table webauthn_credentials;
    `,
  );
}
