import type { RouteCase } from './bypass-cases.ts';

/** Bypass-suite cases for the family routes. */
export const FAMILY_CASES: RouteCase[] = [];
