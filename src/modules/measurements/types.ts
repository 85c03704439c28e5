/**
 * The measurement types (refdata/measurements/types.json): LOINC codes, UCUM units and their
 * conversions to the canonical unit, plausible range (outside: refused with the reason) and usual
 * range (outside: accepted with a warning). Pure functions once the file is loaded.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AppError, invalid } from '../../errors.ts';
import { refdataPath } from '../../platform/refdata.ts';

const range = z.object({ min: z.number(), max: z.number() });
const typeSchema = z.object({
  id: z.string().regex(/^[a-z0-9_]+$/),
  label: z.object({ fr: z.string(), en: z.string() }),
  loinc: z.string(),
  display: z.string(),
  alsoLoinc: z.array(z.string()),
  category: z.string(),
  unit: z.string(),
  decimals: z.number().int().min(0).max(6),
  integer: z.boolean().optional(),
  unitOptional: z.boolean().optional(),
  panel: z.string().optional(),
  components: z.array(z.string()).optional(),
  units: z.array(
    z.object({ code: z.string(), factor: z.number().positive(), offset: z.number().optional() }),
  ),
  plausible: range.nullable(),
  usual: range.nullable(),
});
const fileSchema = z.object({ version: z.string(), description: z.string(), types: z.array(typeSchema) });

export type MeasurementType = z.infer<typeof typeSchema>;
export interface MeasurementTypes {
  version: string;
  types: MeasurementType[];
}

let loaded: MeasurementTypes | undefined;

/** The versioned type catalogue, read once. */
export function measurementTypes(): MeasurementTypes {
  if (loaded) return loaded;
  const path = refdataPath('measurements', 'types.json');
  const parsed = fileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success)
    throw new AppError('internal', `${path}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const ids = new Set(parsed.data.types.map((t) => t.id));
  for (const t of parsed.data.types) {
    if (!t.units.some((u) => u.code === t.unit && u.factor === 1 && !u.offset))
      throw new AppError('internal', `${path}: ${t.id} lacks its canonical unit ${t.unit}`);
    for (const c of t.components ?? [])
      if (!ids.has(c)) throw new AppError('internal', `${path}: ${t.id} names unknown component ${c}`);
  }
  loaded = { version: parsed.data.version, types: parsed.data.types };
  return loaded;
}

/** @example typeById('weight').loinc // '29463-7' */
export function typeById(id: string): MeasurementType | undefined {
  return measurementTypes().types.find((t) => t.id === id);
}

/** The type a LOINC code designates (its main code first, then accepted alternatives). */
export function typeByLoinc(code: string): MeasurementType | undefined {
  const types = measurementTypes().types;
  return types.find((t) => t.loinc === code) ?? types.find((t) => t.alsoLoinc.includes(code));
}

/** The ids of what an entry of this type holds: its components for a panel, itself otherwise. */
export function partsOf(type: MeasurementType): string[] {
  return type.components ?? [type.id];
}

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/**
 * A value in a unit of the type, as the canonical unit's value (rounded to the type's precision).
 *
 * @example toCanonical(typeById('weight')!, 700, 'g', 'value') // 0.7
 */
export function toCanonical(type: MeasurementType, value: number, unit: string, field: string): number {
  const u = type.units.find((x) => x.code === unit);
  if (!u) {
    throw invalid(
      `'${unit}' is not a unit for ${type.label.en.toLowerCase()} (UCUM: ${type.units.map((x) => x.code).join(', ')})`,
      field,
    );
  }
  return round(value * u.factor + (u.offset ?? 0), type.decimals + 2);
}

export interface CheckedValue {
  value: number;
  warnings: string[];
}

/**
 * Checks a canonical value against the type: plausible range (refused with the reason) and usual
 * range (accepted, with a warning).
 *
 * @example checkValue(typeById('weight')!, 700, 'value') // throws: 700 kg is not a plausible weight (0.2–400 kg)
 */
export function checkValue(type: MeasurementType, value: number, field: string): CheckedValue {
  if (!Number.isFinite(value)) throw invalid('The value must be a number', field);
  if (type.integer && !Number.isInteger(value)) throw invalid(`${type.label.en} is a whole number`, field);
  const shown = `${value} ${type.unit}`;
  if (type.plausible && (value < type.plausible.min || value > type.plausible.max)) {
    throw invalid(
      `${shown} is not a plausible ${type.label.en.toLowerCase()} (accepted: ${type.plausible.min}–${type.plausible.max} ${type.unit})`,
      field,
    );
  }
  const warnings: string[] = [];
  if (type.usual && (value < type.usual.min || value > type.usual.max)) {
    warnings.push(
      `${shown} is unusual for ${type.label.en.toLowerCase()} (usual: ${type.usual.min}–${type.usual.max} ${type.unit}); please check it`,
    );
  }
  return { value: round(value, type.decimals + 2), warnings };
}
