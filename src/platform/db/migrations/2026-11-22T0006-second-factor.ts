import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Second factors and sign-in throttling (DOMAIN §1–§2):
 * - `second_factors`: TOTP seeds (sealed) and e-mail one-time-code addresses, confirmed once the
 *   person typed a first good code; `last_step` is the last TOTP time step accepted (a code is
 *   never accepted twice).
 * - `one_time_codes`: six-digit codes sent by e-mail, kept as keyed hashes, bound to the session
 *   that asked for them, with an attempt counter.
 * - `auth_throttle`: failure counters and locks per keyed hash of a login, a matricule or an IP
 *   (no clear identifier), so locks survive a restart.
 * - `enrolment_credentials`: the login and password hash chosen during activation, kept beside the
 *   enrolment session until the second factor is confirmed too (then copied to `patients`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    create table second_factors (
      patient_id uuid not null references patients(id),
      id uuid not null,
      kind text not null check (kind in ('totp','email')),
      sealed_secret bytea,
      email text,
      created_at timestamptz not null,
      confirmed_at timestamptz,
      last_used_at timestamptz,
      last_step bigint,
      revoked_at timestamptz,
      primary key (patient_id, id)
    );
    create index second_factors_live on second_factors (patient_id) where revoked_at is null;

    create table one_time_codes (
      patient_id uuid not null references patients(id),
      id uuid not null,
      session_id uuid not null,
      factor_id uuid not null,
      code_hash bytea not null,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      attempts integer not null default 0,
      used_at timestamptz,
      primary key (patient_id, id)
    );
    create index one_time_codes_session on one_time_codes (session_id);

    create table auth_throttle (
      key bytea primary key,
      failures integer not null default 0,
      window_started_at timestamptz not null,
      locked_until timestamptz,
      lock_count integer not null default 0,
      updated_at timestamptz not null
    );
    create index auth_throttle_updated on auth_throttle (updated_at);

    create table enrolment_credentials (
      patient_id uuid not null references patients(id),
      session_id uuid not null,
      login text not null,
      password_hash text not null,
      created_at timestamptz not null,
      primary key (patient_id, session_id)
    );
    `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    drop table enrolment_credentials;
    drop table auth_throttle;
    drop table one_time_codes;
    drop table second_factors;
    `,
  );
}
