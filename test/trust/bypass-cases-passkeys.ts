import type { RouteCase } from './bypass-cases.ts';

/** Bypass-suite cases for the passkeys routes. */
export const PASSKEY_CASES: RouteCase[] = [];
