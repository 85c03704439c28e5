import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { refdataPath } from '../../platform/refdata.ts';

/**
 * The vaccination calendar as versioned data (refdata/vaccination/calendar-*.json) and the due list
 * computed from it. A new calendar version is a new file: the loader takes the highest `version`.
 */

const age = z.string().regex(/^[MA]\d{1,3}$/, 'an age is M<n> or A<n>');
const ruleSchema = z.union([
  z.object({ computable: z.literal(false), why: z.string() }),
  z.object({
    targets: z.array(z.string()).min(1),
    doses: z.array(z.object({ at: age, until: age.optional(), afterPrevious: age.optional() })).min(1),
    every: age.optional(),
    countFrom: age.optional(),
    stopAfter: age.optional(),
    bornFrom: z.iso.date().optional(),
  }),
]);
const calendarSchema = z.object({
  version: z.string().min(1),
  title: z.string(),
  status: z.string(),
  overdueGraceMonths: z.number().int().min(0).max(24),
  sources: z.record(z.string(), z.string()),
  schedule: z.array(z.looseObject({ id: z.string(), label: z.string(), rule: ruleSchema })),
});
export type Calendar = z.infer<typeof calendarSchema>;

const productsSchema = z.object({
  version: z.string(),
  targetDiseases: z.record(z.string(), z.string()),
  products: z.array(
    z.object({ system: z.string(), code: z.string(), display: z.string(), targets: z.array(z.string()) }),
  ),
});
export type ProductCatalogue = z.infer<typeof productsSchema>;

const cache = new Map<string, Calendar>();

/** Compares versions like 'fr-2025.1' < 'fr-2025.10' < 'fr-2026.1'. */
function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function readCalendar(path: string): Calendar {
  const parsed = calendarSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success)
    throw new AppError('internal', `${path}: invalid calendar (${parsed.error.issues[0]?.message ?? ''})`);
  return parsed.data;
}

/**
 * The calendar in force: the file named by `file` (a name in `dir` or an absolute path), or else the
 * `calendar-*.json` of `dir` with the highest version. Read once per directory and file.
 *
 * @example loadCalendar().version // 'fr-2025.1'
 */
export function loadCalendar(options: { dir?: string; file?: string } = {}): Calendar {
  const dir = options.dir ?? refdataPath('vaccination');
  const file = options.file;
  const key = `${dir}\u0000${file ?? ''}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let calendar: Calendar | undefined;
  if (file) calendar = readCalendar(file.startsWith('/') ? file : join(dir, file));
  else {
    for (const name of readdirSync(dir).filter((n) => /^calendar-.*\.json$/.test(n))) {
      const c = readCalendar(join(dir, name));
      if (!calendar || compareVersions(c.version, calendar.version) > 0) calendar = c;
    }
  }
  if (!calendar) throw new AppError('internal', `No vaccination calendar in ${dir}`);
  cache.set(key, calendar);
  return calendar;
}

let products: ProductCatalogue | undefined;

/** @example productCatalogue().targetDiseases.measles // 'Rougeole' */
export function productCatalogue(): ProductCatalogue {
  products ??= productsSchema.parse(
    JSON.parse(readFileSync(refdataPath('vaccination', 'products.json'), 'utf8')),
  );
  return products;
}

/** Targets of a coded product known to the catalogue (empty when unknown). */
export function targetsOfProduct(system: string | null, code: string | null): string[] {
  if (!system || !code) return [];
  return productCatalogue().products.find((p) => p.system === system && p.code === code)?.targets ?? [];
}

// ---------------------------------------------------------------- due list (pure)

/** Adds an age (M<n> / A<n>) to an ISO date, clamping to the month's last day. */
export function addAge(date: string, ageText: string): string {
  const n = Number(ageText.slice(1));
  const months = ageText.startsWith('A') ? n * 12 : n;
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) + months;
  const year = Math.floor(total / 12);
  const month = (total % 12) + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

export interface GivenDose {
  date: string;
  targets: readonly string[];
}

export interface DueVaccination {
  ruleId: string;
  label: string;
  doseNumber: number;
  status: 'due' | 'overdue';
  dueFrom: string;
  overdueFrom: string;
  mandatory: boolean;
  calendarVersion: string;
}

/**
 * Due and overdue vaccinations on `today` for a person born on `birthDate` with the given doses:
 * per calendar rule, the first dose not yet covered (doses count in date order when they target all
 * the rule's diseases and were given from `countFrom`).
 *
 * @example dueVaccinations(calendar, '2025-01-10', [], '2025-03-15') // [{ ruleId: 'dtcap-hib-hepb', doseNumber: 1, status: 'overdue', … }, …]
 */
export function dueVaccinations(
  calendar: Calendar,
  birthDate: string,
  given: readonly GivenDose[],
  today: string,
): DueVaccination[] {
  const out: DueVaccination[] = [];
  for (const entry of calendar.schedule) {
    const rule = entry.rule;
    if ('computable' in rule) continue;
    if (rule.bornFrom && birthDate < rule.bornFrom) continue;
    if (rule.stopAfter && today >= addAge(birthDate, rule.stopAfter)) continue;
    const countFrom = rule.countFrom ? addAge(birthDate, rule.countFrom) : birthDate;
    const counted = given
      .filter((g) => g.date >= countFrom && rule.targets.every((t) => g.targets.includes(t)))
      .map((g) => g.date)
      .sort();
    const index = counted.length;
    const dose = rule.doses[index];
    let dueFrom: string;
    let windowEnd: string;
    if (dose) {
      dueFrom = addAge(birthDate, dose.at);
      const previous = counted[index - 1];
      if (dose.afterPrevious && previous) {
        const after = addAge(previous, dose.afterPrevious);
        if (after > dueFrom) dueFrom = after;
      }
      windowEnd = dose.until ? addAge(birthDate, dose.until) : dueFrom;
      if (windowEnd < dueFrom) windowEnd = dueFrom;
    } else if (rule.every) {
      const lastListed = rule.doses.at(-1);
      if (!lastListed) continue;
      // Boosters repeat after the last listed age: the (index - listed + 1)-th repetition.
      let at = addAge(birthDate, lastListed.at);
      for (let i = rule.doses.length; i <= index; i++) at = addAge(at, rule.every);
      dueFrom = at;
      windowEnd = at;
    } else continue;
    if (today < dueFrom) continue;
    const overdueFrom = addAge(windowEnd, `M${calendar.overdueGraceMonths}`);
    out.push({
      ruleId: entry.id,
      label: entry.label,
      doseNumber: index + 1,
      status: today >= overdueFrom ? 'overdue' : 'due',
      dueFrom,
      overdueFrom,
      mandatory: entry.mandatory === true,
      calendarVersion: calendar.version,
    });
  }
  return out;
}
