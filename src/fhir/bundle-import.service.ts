import { AppError } from '../errors.ts';
import type { Ctx } from '../platform/context.ts';
import type { Actor } from '../modules/access/index.ts';
import {
  createMeasurements,
  importMeasurements,
  type NewMeasurement,
} from '../modules/measurements/index.ts';
import { importProfileEntries, type ImportedEntry } from '../modules/profile/index.ts';
import { importImmunizations } from '../modules/vaccinations/index.ts';
import { mapBundle, type BloodPressureItem } from './bundle-import.ts';

/**
 * Imports a person's FHIR Bundle into their profile, measurements and vaccinations (author kind
 * 'import', source `fhir-import:<bundle identifier or Patient id>`, external id = the entry's fullUrl
 * or Type/id). The person is the one the actor acts for, never the Bundle's Patient.
 *
 * Atomicity: each module import runs in its own gate transaction (the modules' import functions open
 * theirs and cannot share one), so a failure in a later module leaves the earlier ones written.
 * Every step is idempotent by (person, source, external id): re-sending the same Bundle completes
 * the import and changes nothing already there.
 */

export type ImportCounts = Record<
  'allergies' | 'diseases' | 'treatments' | 'familyHistory' | 'immunizations' | 'measurements',
  number
>;

export interface BundleImportReport {
  source: string;
  imported: ImportCounts;
  unchanged: ImportCounts;
  skipped: Array<{ resourceType: string; count: number; reason: string }>;
}

const SECTION_KEY: Readonly<Record<string, keyof ImportCounts>> = {
  allergies: 'allergies',
  diseases: 'diseases',
  treatments: 'treatments',
  'family-history': 'familyHistory',
};

const zero = (): ImportCounts => ({
  allergies: 0,
  diseases: 0,
  treatments: 0,
  familyHistory: 0,
  immunizations: 0,
  measurements: 0,
});

/** @example const report = await importFhirBundle(ctx, actor, patientId, bundleJson); */
export async function importFhirBundle(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  body: unknown,
): Promise<BundleImportReport> {
  const mapped = mapBundle(body); // a malformed Bundle is refused before anything is written
  const report: BundleImportReport = {
    source: mapped.source,
    imported: zero(),
    unchanged: zero(),
    skipped: [],
  };
  const skipped = new Map<string, { resourceType: string; count: number; reason: string }>();
  const skip = (resourceType: string, reason: string) => {
    const key = `${resourceType}\u0000${reason}`;
    const s = skipped.get(key) ?? { resourceType, count: 0, reason };
    s.count++;
    skipped.set(key, s);
  };

  const profile: Array<{ resourceType: string; item: ImportedEntry }> = [];
  const immunizations: Array<Parameters<typeof importImmunizations>[3][number]> = [];
  const measurements: Array<Parameters<typeof importMeasurements>[3][number]> = [];
  const pressures: BloodPressureItem[] = [];
  for (const m of mapped.entries) {
    if (m.kind === 'skip') skip(m.resourceType, m.reason);
    else if (m.kind === 'profile') profile.push({ resourceType: m.resourceType, item: m.item });
    else if (m.kind === 'immunization') immunizations.push(m.item);
    else if (m.kind === 'measurement') measurements.push(m.item);
    else pressures.push(m.item);
  }

  if (profile.length > 0) {
    const r = await importProfileEntries(
      ctx,
      actor,
      patientId,
      profile.map((p) => p.item),
    );
    const key = (i: number) => SECTION_KEY[profile[i]?.item.section ?? ''] ?? 'diseases';
    for (const c of r.created) report.imported[key(c.index)]++;
    for (const c of r.unchanged) report.unchanged[key(c.index)]++;
    for (const s of r.skipped) skip(profile[s.index]?.resourceType ?? 'unknown', `refused: ${s.reason}`);
  }
  if (immunizations.length > 0) {
    const r = await importImmunizations(ctx, actor, patientId, immunizations, { source: mapped.source });
    report.imported.immunizations += r.imported;
    report.unchanged.immunizations += r.unchanged;
  }
  if (measurements.length > 0) {
    const r = await importMeasurements(ctx, actor, patientId, measurements);
    report.imported.measurements += r.imported;
    report.unchanged.measurements += r.unchanged;
    for (const s of r.skipped) skip('Observation', `refused: ${s.reason}`);
  }
  if (pressures.length > 0) await importPressures(ctx, actor, patientId, pressures, report, skip);

  report.skipped = [...skipped.values()].sort(
    (a, b) => a.resourceType.localeCompare(b.resourceType) || b.count - a.count,
  );
  ctx.log.info(
    { imported: report.imported, unchanged: report.unchanged, skipped: report.skipped.length },
    'FHIR bundle imported',
  );
  return report;
}

const toInput = (p: BloodPressureItem): { input: NewMeasurement; typeField: string } => ({
  input: {
    type: 'blood_pressure',
    raw: [
      { part: 'systolic', ...p.systolic, valueField: 'systolic', unitField: 'systolic.unit' },
      { part: 'diastolic', ...p.diastolic, valueField: 'diastolic', unitField: 'diastolic.unit' },
    ],
    effective: p.effective,
    source: p.source,
    externalId: p.externalId,
    authorKind: 'import',
  },
  typeField: 'code',
});

/**
 * Blood-pressure panels (two values): the measurements module's import takes single values, so
 * panels go through createMeasurements (import provenance, idempotent by source and external id),
 * all in one transaction; if one is refused, one by one so that only the refused ones are skipped.
 */
async function importPressures(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  items: BloodPressureItem[],
  report: BundleImportReport,
  skip: (resourceType: string, reason: string) => void,
): Promise<void> {
  const count = (created: boolean) => {
    if (created) report.imported.measurements++;
    else report.unchanged.measurements++;
  };
  try {
    for (const r of await createMeasurements(ctx, actor, patientId, items.map(toInput))) count(r.created);
    return;
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'invalid_input') throw err;
  }
  for (const p of items) {
    try {
      const [r] = await createMeasurements(ctx, actor, patientId, [toInput(p)]);
      if (r) count(r.created);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'invalid_input') throw err;
      skip('Observation', `refused: ${err.message}`);
    }
  }
}
