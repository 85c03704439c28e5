import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Professional sign-in through OpenID Connect (DOMAIN §1: Pro Santé Connect, no password):
 * - `pro_login_attempts`: one pending authorization request (state, nonce, sealed PKCE verifier),
 *   bound to the browser by a random cookie kept only as a hash; single use, short-lived;
 * - `pro_sessions`: professional web sessions (token kept only as a hash), with the organisation
 *   the professional acts for;
 * - `oidc_test_codes`: authorization codes of the local test provider (embedded mode only), single use.
 * None of them holds a person's health data: no patient_id.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    create table pro_login_attempts (
      id uuid primary key,
      binding_hash bytea not null unique,
      state text not null,
      nonce text not null,
      sealed_verifier bytea not null,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz
    );
    create index pro_login_attempts_expiry on pro_login_attempts (expires_at);

    create table pro_sessions (
      id uuid primary key,
      professional_id uuid not null references professionals(id),
      organization_id uuid references organizations(id),
      token_hash bytea not null unique,
      issuer text not null,
      subject text not null,
      acr text,
      user_agent text,
      ip text,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      revoked_at timestamptz
    );
    create index pro_sessions_professional_live on pro_sessions (professional_id) where revoked_at is null;

    create table oidc_test_codes (
      code_hash bytea primary key,
      client_id text not null,
      redirect_uri text not null,
      code_challenge text not null,
      nonce text,
      rpps text not null,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz
    );
    create index oidc_test_codes_expiry on oidc_test_codes (expires_at);
    `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    drop table oidc_test_codes;
    drop table pro_sessions;
    drop table pro_login_attempts;
    `,
  );
}
