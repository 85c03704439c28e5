/** Tables of passkeys (WebAuthn credentials and challenges) (migration 2026-11-22T0007-passkeys). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the feature
export interface PasskeysTables {}
