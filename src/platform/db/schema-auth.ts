/** Tables of second factors (TOTP, e-mail one-time codes), sign-in throttling (migration 2026-11-22T0006-second-factor). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the feature
export interface AuthTables {}
