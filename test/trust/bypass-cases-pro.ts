import type { RouteCase } from './bypass-cases.ts';

/** Bypass-suite cases for the pro routes. */
export const PRO_CASES: RouteCase[] = [];
