/**
 * Professional sign-in through OpenID Connect (Pro Santé Connect; a local test provider in embedded mode).
 * Public interface of this part of the module (re-exported by index.ts).
 */
export {};
