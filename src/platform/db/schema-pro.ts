import type { ColumnType } from 'kysely';

/** Tables of professional sign-in through OpenID Connect (migration 2026-11-22T0008-professional-sign-in). */

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** identity — a pending authorization request, bound to one browser by a cookie (kept as a hash). */
export interface ProLoginAttemptsTable {
  id: string;
  binding_hash: Buffer;
  state: string;
  nonce: string;
  /** The PKCE code verifier, sealed with the master key. */
  sealed_verifier: Buffer;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

/** identity — a professional's web session (cookie carnet_pro_session; only its hash is kept). */
export interface ProSessionsTable {
  id: string;
  professional_id: string;
  /** The organisation the professional acts for (their first active software client's), if any. */
  organization_id: string | null;
  token_hash: Buffer;
  issuer: string;
  /** The provider's `sub`. */
  subject: string;
  acr: string | null;
  user_agent: string | null;
  ip: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}

/** identity — authorization codes of the local test provider (embedded mode only). */
export interface OidcTestCodesTable {
  code_hash: Buffer;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  nonce: string | null;
  rpps: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface ProTables {
  pro_login_attempts: ProLoginAttemptsTable;
  pro_sessions: ProSessionsTable;
  oidc_test_codes: OidcTestCodesTable;
}
