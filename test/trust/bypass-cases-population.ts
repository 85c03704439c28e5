import type { RouteCase } from './bypass-cases.ts';

/** Bypass-suite cases for the population routes. */
export const POPULATION_CASES: RouteCase[] = [];
