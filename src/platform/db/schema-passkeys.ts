import type { ColumnType, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

/** A person's passkey (WebAuthn credential). Owned by identity (passkey.repository.ts). */
export interface WebauthnCredentialsTable {
  patient_id: string;
  id: string;
  /** The credential id the authenticator chose, base64url. Unique over everyone. */
  credential_id: string;
  /** COSE public key. */
  public_key: Buffer;
  /** Signature counter (uint32; bigint in SQL, a string or bigint from the drivers). */
  counter: ColumnType<string | number | bigint, number | undefined, number>;
  transports: ColumnType<string[], string[] | undefined, string[]>;
  name: string;
  aaguid: string;
  backed_up: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

/** Single-use WebAuthn challenges (about five minutes). */
export interface WebauthnChallengesTable {
  id: string;
  /** The person registering; null for a sign-in challenge (discoverable credentials: nobody named). */
  patient_id: string | null;
  /** The session (active or enrolment) that asked for a registration challenge. */
  session_id: string | null;
  kind: 'registration' | 'authentication';
  challenge: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

/** Tables of passkeys (WebAuthn credentials and challenges) (migration 2026-11-22T0007-passkeys). */
export interface PasskeysTables {
  webauthn_credentials: WebauthnCredentialsTable;
  webauthn_challenges: WebauthnChallengesTable;
}

export type WebauthnCredentialRow = Selectable<WebauthnCredentialsTable>;
