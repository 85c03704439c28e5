import { AppError } from '../errors.ts';
import type { Ctx } from '../platform/context.ts';
import { guarded, type Actor } from '../modules/access/index.ts';
import {
  createMeasurements,
  importMeasurements,
  validateMeasurement,
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
 * Atomicity: all or nothing. Every part runs in ONE gate transaction (the modules' import functions
 * join the enclosing guarded() transaction), so an unexpected error in any part rolls back all of
 * them. Entries a module refuses as invalid are sorted out before anything fails (the modules skip
 * them, blood-pressure panels are validated first) and reported as skipped with the reason. Every
 * step is idempotent by (person, source, external id): re-sending the same Bundle changes nothing
 * already there.
 */

export type ImportCounts = Record<
  | 'allergies'
  | 'diseases'
  | 'treatments'
  | 'hospitalisations'
  | 'familyHistory'
  | 'disabilities'
  | 'bloodGroup'
  | 'lifestyle'
  | 'immunizations'
  | 'measurements',
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
  hospitalisations: 'hospitalisations',
  'family-history': 'familyHistory',
  disabilities: 'disabilities',
  'blood-group': 'bloodGroup',
  lifestyle: 'lifestyle',
};

const zero = (): ImportCounts => ({
  allergies: 0,
  diseases: 0,
  treatments: 0,
  hospitalisations: 0,
  familyHistory: 0,
  disabilities: 0,
  bloodGroup: 0,
  lifestyle: 0,
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

  await guarded(ctx, async (tx) => {
    if (profile.length > 0) {
      const r = await importProfileEntries(
        tx,
        actor,
        patientId,
        profile.map((p) => p.item),
      );
      const key = (i: number): keyof ImportCounts => {
        const section = profile[i]?.item.section ?? '';
        const k = SECTION_KEY[section];
        if (!k) throw new Error(`no import counter for the profile section ${section}`);
        return k;
      };
      for (const c of r.created) report.imported[key(c.index)]++;
      for (const c of r.unchanged) report.unchanged[key(c.index)]++;
      for (const s of r.skipped) skip(profile[s.index]?.resourceType ?? 'unknown', `refused: ${s.reason}`);
    }
    if (immunizations.length > 0) {
      const r = await importImmunizations(tx, actor, patientId, immunizations, { source: mapped.source });
      report.imported.immunizations += r.imported;
      report.unchanged.immunizations += r.unchanged;
    }
    if (measurements.length > 0) {
      const r = await importMeasurements(tx, actor, patientId, measurements);
      report.imported.measurements += r.imported;
      report.unchanged.measurements += r.unchanged;
      for (const s of r.skipped) skip('Observation', `refused: ${s.reason}`);
    }
    if (pressures.length > 0) await importPressures(tx, actor, patientId, pressures, report, skip);
  });

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
 * panels go through createMeasurements (import provenance, idempotent by source and external id).
 * Each panel is validated first and refused ones are skipped, so nothing fails inside the shared
 * transaction (tx: the import's guarded transaction).
 */
async function importPressures(
  tx: Ctx,
  actor: Actor,
  patientId: string,
  items: BloodPressureItem[],
  report: BundleImportReport,
  skip: (resourceType: string, reason: string) => void,
): Promise<void> {
  const valid: Array<{ input: NewMeasurement; typeField: string }> = [];
  for (const p of items) {
    const one = toInput(p);
    try {
      validateMeasurement(tx, one.input, one.typeField);
      valid.push(one);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'invalid_input') throw err;
      skip('Observation', `refused: ${err.message}`);
    }
  }
  if (valid.length === 0) return;
  for (const r of await createMeasurements(tx, actor, patientId, valid)) {
    if (r.created) report.imported.measurements++;
    else report.unchanged.measurements++;
  }
}
