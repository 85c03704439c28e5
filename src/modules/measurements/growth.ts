/**
 * Growth curves for children: z-score and percentile of a weight, height, head circumference or BMI
 * for age and sex, from the WHO LMS tables (Child Growth Standards 2006, 0–1826 days; Growth
 * Reference 2007, 61–229 months).
 *
 * The WHO tables are NOT shipped in this repository (their licence terms do not allow copying them
 * into an MIT project: see refdata/growth/README.md). They are read from the folder named by
 * CARNET_GROWTH_TABLES_DIR, or refdata/growth/who/ when an operator has put them there; the
 * expected files and their SHA-256 are listed in refdata/growth/tables.json.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../errors.ts';
import { parseCsv, refdataPath } from '../../platform/refdata.ts';

export type GrowthType = 'weight' | 'height' | 'head_circumference' | 'bmi';
export const GROWTH_TYPES: readonly GrowthType[] = ['weight', 'height', 'head_circumference', 'bmi'];

interface Lms {
  L: number;
  M: number;
  S: number;
}

interface TableFile {
  file: string;
  sha256: string;
  /** What the age column counts. */
  unit: 'days' | 'months';
}

interface Manifest {
  version: string;
  tables: Record<GrowthType, TableFile[]>;
}

/** By type, sex: LMS rows by age in days (0–1826) and by month (61–229). */
interface Loaded {
  days: Map<string, Lms[]>;
  months: Map<string, Lms[]>;
}

const DAYS_PER_MONTH = 30.4375;
const cache = new Map<string, Map<GrowthType, Loaded>>();

function manifest(): Manifest {
  return JSON.parse(readFileSync(refdataPath('growth', 'tables.json'), 'utf8')) as Manifest;
}

/** The folder holding the WHO CSV files, or undefined when none is installed. */
export function growthTablesDir(configured?: string): string | undefined {
  if (configured) return configured;
  const local = refdataPath('growth', 'who');
  return existsSync(local) ? local : undefined;
}

function load(dir: string): Map<GrowthType, Loaded> {
  const hit = cache.get(dir);
  if (hit) return hit;
  const out = new Map<GrowthType, Loaded>();
  for (const [type, files] of Object.entries(manifest().tables) as Array<[GrowthType, TableFile[]]>) {
    const loaded: Loaded = { days: new Map(), months: new Map() };
    for (const t of files) {
      const path = join(dir, t.file);
      if (!existsSync(path)) throw new AppError('unavailable', `Growth table missing: ${t.file}`);
      const text = readFileSync(path, 'utf8');
      const digest = createHash('sha256').update(text).digest('hex');
      if (digest !== t.sha256)
        throw new AppError('unavailable', `Growth table ${t.file} is not the expected version`);
      const target = t.unit === 'days' ? loaded.days : loaded.months;
      for (const row of parseCsv(text, path)) {
        const age = Number(t.unit === 'days' ? row.age_days : row.age_months);
        const list = target.get(row.sex ?? '') ?? [];
        list[age] = { L: Number(row.L), M: Number(row.M), S: Number(row.S) };
        target.set(row.sex ?? '', list);
      }
    }
    out.set(type, loaded);
  }
  cache.set(dir, out);
  return out;
}

function lmsAt(table: Loaded, sex: 'M' | 'F', ageDays: number): Lms | undefined {
  const days = table.days.get(sex);
  const whole = Math.round(ageDays);
  if (days && whole >= 0 && whole < days.length) return days[whole];
  const months = table.months.get(sex);
  if (!months) return undefined;
  const m = ageDays / DAYS_PER_MONTH;
  const lo = Math.floor(m);
  const a = months[lo];
  const b = months[lo + 1];
  if (a && b) {
    const f = m - lo;
    return { L: a.L + (b.L - a.L) * f, M: a.M + (b.M - a.M) * f, S: a.S + (b.S - a.S) * f };
  }
  return months[Math.round(m)];
}

/** The measurement at z-score z of an LMS distribution. */
export function valueAtZ({ L, M, S }: Lms, z: number): number {
  return L === 0 ? M * Math.exp(S * z) : M * (1 + L * S * z) ** (1 / L);
}

/**
 * The z-score of y under an LMS distribution; with `restricted`, WHO's rule beyond ±3 SD (weight-based
 * indicators): the distance is measured in units of the 2–3 SD gap.
 *
 * @example zScore({ L: 0.3487, M: 3.3464, S: 0.14602 }, 3.3464, true) // 0
 */
export function zScore(lms: Lms, y: number, restricted: boolean): number {
  const { L, M, S } = lms;
  const z = L === 0 ? Math.log(y / M) / S : ((y / M) ** L - 1) / (L * S);
  if (!restricted || Math.abs(z) <= 3) return z;
  if (z > 3) {
    const sd3 = valueAtZ(lms, 3);
    return 3 + (y - sd3) / (sd3 - valueAtZ(lms, 2));
  }
  const sd3 = valueAtZ(lms, -3);
  return -3 + (y - sd3) / (valueAtZ(lms, -2) - sd3);
}

/** Standard normal cumulative distribution (Abramowitz–Stegun 7.1.26 erf, error < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

export interface GrowthScore {
  zScore: number;
  percentile: number;
}

/**
 * Z-score and percentile of a value for age (days) and sex, or undefined outside the tables' ages.
 *
 * @example growthScore('weight', 'M', 0, 3.3464) // { zScore: 0, percentile: 50 }
 */
export function growthScore(
  type: GrowthType,
  sex: 'M' | 'F',
  ageDays: number,
  value: number,
  dir = growthTablesDir(),
): GrowthScore | undefined {
  if (!dir) throw new AppError('unavailable', 'The WHO growth tables are not installed on this server');
  const table = load(dir).get(type);
  const lms = table && lmsAt(table, sex, ageDays);
  if (!lms) return undefined;
  const z = zScore(lms, value, type !== 'height');
  return { zScore: Math.round(z * 100) / 100, percentile: Math.round(normalCdf(z) * 1000) / 10 };
}

/** The percentile lines (3, 15, 50, 85, 97) at an age, for drawing the curves. */
export function percentileLines(
  type: GrowthType,
  sex: 'M' | 'F',
  ageDays: number,
  dir = growthTablesDir(),
): Record<'p3' | 'p15' | 'p50' | 'p85' | 'p97', number> | undefined {
  if (!dir) throw new AppError('unavailable', 'The WHO growth tables are not installed on this server');
  const table = load(dir).get(type);
  const lms = table && lmsAt(table, sex, ageDays);
  if (!lms) return undefined;
  const at = (z: number) => Math.round(valueAtZ(lms, z) * 100) / 100;
  return { p3: at(-1.8808), p15: at(-1.0364), p50: at(0), p85: at(1.0364), p97: at(1.8808) };
}
