import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

/** identity — a person's second factors (TOTP seed sealed, or an e-mail address for one-time codes). */
export interface SecondFactorsTable {
  patient_id: string;
  id: string;
  kind: 'totp' | 'email';
  /** TOTP seed (base32), sealed with sealSecret('totp', …, `${patient_id}/${id}`). */
  sealed_secret: Buffer | null;
  email: string | null;
  created_at: Timestamp;
  /** Null until a first good code proved the factor works. */
  confirmed_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
  /** The last TOTP time step accepted: any step ≤ it is refused (no replay). */
  last_step: ColumnType<string | null, string | number | null | undefined, string | number | null>;
  revoked_at: NullableTimestamp;
}

/** identity — six-digit codes sent by e-mail (keyed hash only), bound to one session. */
export interface OneTimeCodesTable {
  patient_id: string;
  id: string;
  session_id: string;
  factor_id: string;
  code_hash: Buffer;
  created_at: Timestamp;
  expires_at: Timestamp;
  attempts: ColumnType<number, number | undefined, number>;
  used_at: NullableTimestamp;
}

/** identity — failure counters and locks per keyed hash of a login, matricule or IP. */
export interface AuthThrottleTable {
  key: Buffer;
  failures: ColumnType<number, number | undefined, number>;
  window_started_at: Timestamp;
  locked_until: NullableTimestamp;
  lock_count: ColumnType<number, number | undefined, number>;
  updated_at: Timestamp;
}

/** identity — login and password hash chosen during activation, until the enrolment completes. */
export interface EnrolmentCredentialsTable {
  patient_id: string;
  session_id: string;
  login: string;
  password_hash: string;
  created_at: Timestamp;
}

/** Tables of second factors (TOTP, e-mail one-time codes), sign-in throttling (migration 2026-11-22T0006-second-factor). */
export interface AuthTables {
  second_factors: SecondFactorsTable;
  one_time_codes: OneTimeCodesTable;
  auth_throttle: AuthThrottleTable;
  enrolment_credentials: EnrolmentCredentialsTable;
}
