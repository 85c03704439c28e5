/**
 * Passkeys (WebAuthn).
 * Public interface of this part of the module (re-exported by index.ts).
 */
export {};
