import type { RouteCase } from './bypass-cases.ts';

/** Bypass-suite cases for the signin routes. */
export const SIGNIN_CASES: RouteCase[] = [];
