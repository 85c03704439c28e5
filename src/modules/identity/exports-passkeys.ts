/**
 * Passkeys (WebAuthn).
 * Public interface of this part of the module (re-exported by index.ts).
 */
export type { PasskeyView } from './passkey.ts';
export { relyingParty, CHALLENGE_MINUTES } from './passkey.ts';
export type { PasskeyRegistrant } from './passkey.service.ts';
export { listPasskeys, revokeAllPasskeys } from './passkey-devices.ts';
