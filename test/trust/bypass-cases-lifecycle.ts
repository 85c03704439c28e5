import type { RouteCase } from './bypass-cases.ts';

/** Bypass-suite cases for the lifecycle routes. */
export const LIFECYCLE_CASES: RouteCase[] = [];
