import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedInPatient, type ApiPatient } from '../api/support.ts';
import { createTestRuntime, type TestRuntime } from '../harness.ts';

/**
 * API → FHIR → API: person A fills every profile section the synthesis Bundle maps, plus
 * measurements and vaccinations, through /api; A's IPS-like document (GET /api/synthesis/fhir)
 * becomes a collection Bundle imported by person B (POST /api/profile/import); B's entries must
 * carry the same meaningful fields, section by section (author kind 'import'). Changes the loop
 * makes are asserted explicitly (see LOSSES).
 */

const NOW = new Date('2026-11-20T10:00:00Z');

/** A's entries, per section (every profile section that profile.fhir.ts maps). */
const PROFILE: Record<string, Array<Record<string, unknown>>> = {
  allergies: [
    {
      substance: { text: 'Pénicilline', coding: { system: 'http://snomed.info/sct', code: '764146007' } },
      kind: 'allergy',
      category: 'medication',
      reaction: 'Urticaire',
      severity: 'moderate',
      criticality: 'high',
      since: '2010-04-01',
      note: 'Confirmée par allergologue',
    },
    { substance: { text: 'Lactose' }, kind: 'intolerance', category: 'food' },
  ],
  diseases: [
    {
      condition: { text: 'Asthme', coding: { system: 'http://snomed.info/sct', code: '195967001' } },
      status: 'remission',
      since: '2001-05-01',
      note: 'Effort',
    },
    { condition: { text: 'Appendicite' }, status: 'resolved', since: '1999-07-10', until: '1999-07-20' },
  ],
  treatments: [
    {
      name: {
        text: 'Ventoline 100 µg',
        coding: { system: 'urn:oid:1.2.250.1.213.2.3.1', code: '3400930000001' },
      },
      dose: '2 bouffées',
      since: '2020-01-01',
      reason: 'Asthme',
      note: 'En cas de crise',
    },
    { name: { text: 'Amoxicilline' }, since: '2026-01-01', until: '2026-01-08' },
  ],
  hospitalisations: [
    {
      kind: 'surgery',
      reason: { text: 'Appendicectomie', coding: { system: 'http://snomed.info/sct', code: '80146002' } },
      date: '1999-07-12',
      place: 'CHU de Nantes',
      note: 'Sans complication',
    },
    { kind: 'hospitalisation', reason: { text: 'Pneumopathie' }, date: '2024-02-01', until: '2024-02-06' },
  ],
  'family-history': [
    {
      relationship: 'mother',
      condition: { text: 'Diabète de type 2' },
      ageAtOnset: 55,
      note: 'Sous insuline',
    },
    { relationship: 'uncle-aunt', condition: { text: 'Cancer du côlon' } },
    { relationship: 'grandparent', condition: { text: 'Infarctus du myocarde' }, ageAtOnset: 70 },
  ],
  disabilities: [
    {
      type: 'motor',
      description: 'Paraplégie',
      rateBand: '80-or-more',
      humanHelp: true,
      note: 'Fauteuil roulant',
    },
    { type: 'sensory', rateBand: 'unknown', humanHelp: false },
  ],
  'blood-group': [{ abo: 'AB', rhesus: 'negative' }],
  lifestyle: [
    {
      topic: 'tobacco',
      description: 'Ancien fumeur',
      quantity: '10 paquets-années',
      note: 'Arrêt en 2015',
    },
    { topic: 'screens', description: 'Deux heures par jour' },
    { topic: 'activity', description: 'Vélo' },
  ],
};

/** A treatment whose dose and frequency come back as one dose (MedicationStatement.dosage.text). */
const TREATMENT_WITH_FREQUENCY = {
  name: { text: 'Doliprane 1000 mg' },
  dose: '1 comprimé',
  frequency: 'le soir',
};

const MEASUREMENTS = [
  { type: 'weight', value: 70.5, unit: 'kg', effective: '2026-11-19T08:00:00+01:00' },
  {
    type: 'blood_pressure',
    values: { systolic: 128, diastolic: 82 },
    effective: '2026-11-19T08:05:00+01:00',
  },
  { type: 'heart_rate', value: 64, effective: '2026-11-19T08:06:00+01:00' },
];

const VACCINATIONS = [
  {
    product: { system: 'http://www.whocc.no/atc', code: 'J07CA09', display: 'Hexavalent' },
    date: '2025-03-12',
    lotNumber: 'LOT-1',
    kind: 'primary',
    doseNumber: 1,
    comment: 'Cuisse gauche',
  },
  { product: { display: 'Grippe saisonnière' }, date: '2025-10-15', kind: 'booster', doseNumber: 2 },
];

interface Entry {
  fields: Record<string, unknown>;
  author: { kind: string };
  source: string | null;
}
interface Report {
  imported: Record<string, number>;
  unchanged: Record<string, number>;
  skipped: Array<{ resourceType: string; count: number; reason: string }>;
}
type Json = Record<string, unknown>;

let rt: TestRuntime;
let a: ApiPatient;
let b: ApiPatient;
let bundle: { entry: Array<{ fullUrl: string; resource: Json & { resourceType: string } }> };

const call = (p: ApiPatient, method: 'GET' | 'POST', url: string, payload?: unknown) =>
  rt.app.inject({
    method,
    url,
    headers: { cookie: p.cookie },
    ...(payload === undefined ? {} : { payload: payload as Json }),
  });

async function profileOf(p: ApiPatient): Promise<Map<string, Entry[]>> {
  const res = await call(p, 'GET', '/api/profile');
  expect(res.statusCode, res.body).toBe(200);
  const sections = res.json<{ sections: Array<{ section: string; entries: Entry[] }> }>().sections;
  return new Map(sections.map((s) => [s.section, s.entries]));
}

async function measurementsOf(p: ApiPatient): Promise<Json[]> {
  const res = await call(p, 'GET', '/api/measurements?limit=500');
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: Json[] }>().items;
}

async function vaccinationsOf(p: ApiPatient): Promise<Json[]> {
  const res = await call(p, 'GET', '/api/vaccinations');
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: Json[] }>().items;
}

/** Order-independent comparison: entries sorted by their JSON. */
const sorted = <T>(xs: T[]): T[] =>
  [...xs].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
const pick = (o: Json, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k] ?? null]));
const MEASUREMENT_KEYS = ['type', 'value', 'unit', 'values', 'effective'];
const VACCINATION_KEYS = [
  'status',
  'statusReason',
  'product',
  'targetDiseases',
  'date',
  'lotNumber',
  'kind',
  'doseNumber',
  'comment',
];

const importB = (payload: unknown) => call(b, 'POST', '/api/profile/import', payload);
const sum = (counts: Record<string, number>) => Object.values(counts).reduce((n, c) => n + c, 0);

describe('profile, measurements and vaccinations: API → FHIR → API', () => {
  beforeAll(async () => {
    rt = await createTestRuntime({ clock: NOW });
    a = await signedInPatient(rt);
    b = await signedInPatient(rt);
    for (const [section, entries] of Object.entries(PROFILE))
      for (const fields of entries) {
        const res = await call(a, 'POST', `/api/profile/${section}/entries`, { fields });
        expect(res.statusCode, res.body).toBe(201);
      }
    const t = await call(a, 'POST', '/api/profile/treatments/entries', { fields: TREATMENT_WITH_FREQUENCY });
    expect(t.statusCode, t.body).toBe(201);
    for (const m of MEASUREMENTS) {
      const res = await call(a, 'POST', '/api/measurements', m);
      expect(res.statusCode, res.body).toBe(201);
    }
    for (const v of VACCINATIONS) {
      const res = await call(a, 'POST', '/api/vaccinations', v);
      expect(res.statusCode, res.body).toBe(201);
    }
    const doc = await call(a, 'GET', '/api/synthesis/fhir');
    expect(doc.statusCode, doc.body).toBe(200);
    bundle = doc.json();
  });
  afterAll(async () => rt?.close());

  const collection = () => ({ ...bundle, type: 'collection' });
  let first: Report;

  it('imports the document as a collection Bundle: only the Composition and the Patient are skipped', async () => {
    const res = await importB(collection());
    expect(res.statusCode, res.body).toBe(200);
    first = res.json<Report>();
    expect(first.skipped).toEqual([
      { resourceType: 'Composition', count: 1, reason: 'Composition is not imported' },
      {
        resourceType: 'Patient',
        count: 1,
        reason: 'the person is the one signed in: the Bundle’s Patient is not used',
      },
    ]);
    const profileCount = Object.values(PROFILE).reduce((n, e) => n + e.length, 0) + 1;
    expect(sum(first.imported)).toBe(profileCount + MEASUREMENTS.length + VACCINATIONS.length);
    expect(first.imported).toMatchObject({
      allergies: PROFILE.allergies?.length,
      diseases: PROFILE.diseases?.length,
      treatments: 3,
      hospitalisations: PROFILE.hospitalisations?.length,
      disabilities: PROFILE.disabilities?.length,
      bloodGroup: PROFILE['blood-group']?.length,
      lifestyle: PROFILE.lifestyle?.length,
      familyHistory: PROFILE['family-history']?.length,
      immunizations: VACCINATIONS.length,
      measurements: MEASUREMENTS.length,
    });
    expect(sum(first.unchanged)).toBe(0);
  });

  it.each(Object.keys(PROFILE))('%s: every entry comes back with the same fields', async (section) => {
    const [fromA, fromB] = [(await profileOf(a)).get(section), (await profileOf(b)).get(section)];
    expect(fromA).toHaveLength((PROFILE[section]?.length ?? 0) + (section === 'treatments' ? 1 : 0));
    expect(fromB).toHaveLength(fromA?.length ?? -1);
    expect(fromA?.map((e) => e.author.kind)).toEqual(fromA?.map(() => 'patient'));
    expect(fromB?.map((e) => e.author.kind)).toEqual(fromB?.map(() => 'import'));
    expect(new Set(fromB?.map((e) => e.source))).toEqual(new Set([expect.stringMatching(/^fhir-import:/)]));
    const without = (es: Entry[] | undefined) =>
      (es ?? []).map((e) => e.fields).filter((f) => f.frequency === undefined);
    expect(sorted(without(fromB).filter((f) => f.dose !== '1 comprimé, le soir'))).toEqual(
      sorted(without(fromA)),
    );
  });

  it('LOSSES: a treatment’s frequency comes back inside its dose (one MedicationStatement.dosage.text)', async () => {
    const fromB = (await profileOf(b)).get('treatments') ?? [];
    expect(fromB.map((e) => e.fields.name)).toContainEqual(TREATMENT_WITH_FREQUENCY.name);
    expect(fromB.find((e) => e.fields.dose === '1 comprimé, le soir')?.fields).toEqual({
      name: TREATMENT_WITH_FREQUENCY.name,
      dose: '1 comprimé, le soir',
    });
  });

  it('measurements come back with the same type, value, unit and date', async () => {
    const [fromA, fromB] = [await measurementsOf(a), await measurementsOf(b)];
    expect(fromA).toHaveLength(MEASUREMENTS.length);
    expect(sorted(fromB.map((m) => pick(m, MEASUREMENT_KEYS)))).toEqual(
      sorted(fromA.map((m) => pick(m, MEASUREMENT_KEYS))),
    );
    expect(fromB.map((m) => (m.author as { kind: string }).kind)).toEqual(fromB.map(() => 'import'));
  });

  it('vaccinations come back with the same product, date, lot, kind, dose, diseases and comment', async () => {
    const [fromA, fromB] = [await vaccinationsOf(a), await vaccinationsOf(b)];
    expect(fromA).toHaveLength(VACCINATIONS.length);
    expect(sorted(fromB.map((v) => pick(v, VACCINATION_KEYS)))).toEqual(
      sorted(fromA.map((v) => pick(v, VACCINATION_KEYS))),
    );
    expect(fromB.map((v) => (v.author as { kind: string }).kind)).toEqual(fromB.map(() => 'import'));
  });

  it('importing the same Bundle again changes nothing', async () => {
    const before = [await profileOf(b), await measurementsOf(b), await vaccinationsOf(b)];
    const res = await importB(collection());
    expect(res.statusCode, res.body).toBe(200);
    const again = res.json<Report>();
    expect(sum(again.imported)).toBe(0);
    expect(again.unchanged).toEqual(first.imported);
    expect(again.skipped).toEqual(first.skipped);
    expect([await profileOf(b), await measurementsOf(b), await vaccinationsOf(b)]).toEqual(before);
  });
});
