import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, seedPatient, sessionCookieFor, type TestRuntime } from '../harness.ts';
import { mapBundle } from '../../src/fhir/bundle-import.ts';
import type {
  BundleImportReport as Report,
  ImportCounts as Counts,
} from '../../src/fhir/bundle-import.service.ts';
import { measurementTypes } from '../../src/modules/measurements/index.ts';

/**
 * POST /api/profile/import with the Synthea R4 bundles (Apache-2.0, read from /work/shared/fixtures
 * at test time, not copied) and the HL7 R4 examples (CC0). Expected counts are computed here from
 * each bundle with rules written independently of the mapper.
 */

const SYNTHEA = '/work/shared/fixtures/synthea-r4';
const HL7 = '/work/shared/fixtures/hl7-r4-examples';
const NOW = new Date('2026-11-20T10:00:00Z');
const present = existsSync(SYNTHEA) && existsSync(HL7);
if (!present) console.warn(`bundle-import tests skipped: ${SYNTHEA} or ${HL7} is absent`);

type Json = Record<string, unknown> & { resourceType: string };
type Bundle = { entry: Array<{ fullUrl?: string; resource: Json }> };

const code = (cc: unknown): string | undefined =>
  (cc as { coding?: Array<{ code?: string }> } | undefined)?.coding?.[0]?.code;

const zero: Counts = {
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
};

/** What the import must do with a Synthea bundle, by resource type and status. */
function expected(bundle: Bundle): { counts: Counts; skipped: number } {
  const loincs = new Set(measurementTypes().types.flatMap((t) => (t.panel ? [] : [t.loinc, ...t.alsoLoinc])));
  const counts: Counts = { ...zero };
  let skipped = 0;
  for (const { resource: r } of bundle.entry) {
    const cats = ((r.category ?? []) as Array<{ coding?: Array<{ code?: string }> }>).flatMap((c) =>
      (c.coding ?? []).map((x) => x.code),
    );
    if (r.resourceType === 'AllergyIntolerance' && code(r.clinicalStatus) === 'active') counts.allergies++;
    else if (r.resourceType === 'Condition' && code(r.verificationStatus) === 'confirmed') counts.diseases++;
    else if (r.resourceType === 'MedicationRequest' && r.status === 'active') counts.treatments++;
    else if (r.resourceType === 'Immunization' && r.status === 'completed') counts.immunizations++;
    else if (
      r.resourceType === 'Observation' &&
      cats.includes('vital-signs') &&
      loincs.has(code(r.code) ?? '')
    )
      counts.measurements++;
    else skipped++;
  }
  return { counts, skipped };
}

const total = (r: Report) => r.skipped.reduce((n, s) => n + s.count, 0);

describe.skipIf(!present)('FHIR bundle import', () => {
  let rt: TestRuntime;
  let cookie: string;
  const files = present
    ? readdirSync(SYNTHEA)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];
  const sources = new Map<string, Counts>();

  beforeAll(async () => {
    rt = await createTestRuntime({ clock: NOW });
    await seedPatient(rt.ctx, { login: 'importer', password: 'correct horse battery' });
    cookie = await sessionCookieFor(rt.app, 'importer', 'correct horse battery');
  });
  afterAll(async () => rt.close());

  const post = (payload: unknown) =>
    rt.app.inject({
      method: 'POST',
      url: '/api/profile/import',
      headers: { cookie },
      payload: payload as object,
    });

  it.each(files)('imports %s with the expected counts, twice without change', async (file) => {
    const bundle = JSON.parse(readFileSync(`${SYNTHEA}/${file}`, 'utf8')) as Bundle;
    const want = expected(bundle);
    const first = await post(bundle);
    expect(first.statusCode, first.body).toBe(200);
    const r1 = first.json<Report>();
    expect(r1.imported).toEqual(want.counts);
    expect(r1.unchanged).toEqual(zero);
    expect(total(r1)).toBe(want.skipped);
    // No refusal by a module: every skip is a mapping decision with its reason.
    expect(r1.skipped.filter((s) => s.reason.startsWith('refused'))).toEqual([]);
    expect(r1.skipped).toContainEqual({
      resourceType: 'Patient',
      count: 1,
      reason: 'the person is the one signed in: the Bundle’s Patient is not used',
    });
    const second = await post(bundle);
    expect(second.statusCode).toBe(200);
    const r2 = second.json<Report>();
    expect(r2.imported).toEqual(zero);
    expect(r2.unchanged).toEqual(want.counts);
    expect(r2.skipped).toEqual(r1.skipped);
    sources.set(r1.source, want.counts);
  });

  it('shows the imported entries in /api/profile, /api/measurements and /api/vaccinations', async () => {
    expect(sources.size).toBe(files.length);
    const profile = await rt.app.inject({ method: 'GET', url: '/api/profile', headers: { cookie } });
    type Entry = { source: string | null; author: { kind: string }; locked: boolean };
    const sections = profile.json<{ sections: Array<{ section: string; entries: Entry[] }> }>().sections;
    const bySection = (name: string) => sections.find((s) => s.section === name)?.entries ?? [];
    const measurements: Array<{ author: { kind: string } }> = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof rt.app.inject>> = await rt.app.inject({
        method: 'GET',
        url: `/api/measurements?limit=500${cursor ? `&cursor=${cursor}` : ''}`,
        headers: { cookie },
      });
      const body: { items: typeof measurements; nextCursor: string | null } = page.json();
      measurements.push(...body.items);
      cursor = body.nextCursor;
    } while (cursor);
    const vaccinations = (
      await rt.app.inject({ method: 'GET', url: '/api/vaccinations', headers: { cookie } })
    ).json<{ items: Array<{ source: string | null; author: { kind: string } }> }>().items;
    for (const [source, counts] of sources) {
      const of = <T extends { source: string | null }>(xs: T[]) => xs.filter((x) => x.source === source);
      expect(of(bySection('allergies'))).toHaveLength(counts.allergies);
      expect(of(bySection('diseases'))).toHaveLength(counts.diseases);
      expect(of(bySection('treatments'))).toHaveLength(counts.treatments);
      expect(of(vaccinations)).toHaveLength(counts.immunizations);
    }
    // The measurements API does not show the source: all of this person's measurements are imported ones.
    expect(measurements).toHaveLength([...sources.values()].reduce((n, c) => n + c.measurements, 0));
    const all = [...bySection('allergies'), ...measurements, ...vaccinations];
    expect(all.length).toBeGreaterThan(0);
    expect(new Set(all.map((e) => e.author.kind))).toEqual(new Set(['import']));
  });

  const hl7 = present
    ? ['AllergyIntolerance', 'Condition', 'MedicationStatement', 'FamilyMemberHistory'].flatMap((d) =>
        readdirSync(`${HL7}/${d}`).map((f) => `${d}/${f}`),
      )
    : [];
  /** Each HL7 example: the section it lands in, or the precise reason it is skipped. */
  const outcome: Record<string, string> = {
    'AllergyIntolerance/AllergyIntolerance-example.json': 'allergies',
    'AllergyIntolerance/AllergyIntolerance-medication.json': 'allergies',
    'AllergyIntolerance/AllergyIntolerance-nkda.json':
      'skip: a "no known allergy" statement: declare the section "not concerned" instead',
    'Condition/Condition-example.json': 'diseases',
    'Condition/Condition-f001.json': 'diseases',
    'Condition/Condition-f003.json': 'diseases',
    'Condition/Condition-f202.json': 'diseases',
    'Condition/Condition-f204.json':
      'skip: verification status differential: only confirmed conditions are imported',
    'Condition/Condition-family-history.json':
      'skip: a family-history finding without the relative: add it to family history by hand',
    'MedicationStatement/MedicationStatement-example001.json': 'treatments',
    'MedicationStatement/MedicationStatement-example003.json': 'treatments',
    'MedicationStatement/MedicationStatement-example005.json':
      'skip: status entered-in-error: not a treatment taken',
    'MedicationStatement/MedicationStatement-example007.json': 'treatments',
    'FamilyMemberHistory/FamilyMemberHistory-father.json': 'family-history',
  };
  const hl7Bundle = () => ({
    resourceType: 'Bundle',
    type: 'collection',
    identifier: { system: 'urn:test', value: 'hl7-examples' },
    entry: hl7.map((f) => ({ resource: JSON.parse(readFileSync(`${HL7}/${f}`, 'utf8')) as unknown })),
  });

  it('maps each HL7 example to a section or a precise reason', () => {
    expect(hl7.sort()).toEqual(Object.keys(outcome).sort());
    const mapped = mapBundle(hl7Bundle());
    hl7.forEach((f, i) => {
      const m = mapped.entries[i];
      const got = m?.kind === 'skip' ? `skip: ${m.reason}` : m?.kind === 'profile' ? m.item.section : m?.kind;
      expect(got, f).toBe(outcome[f]);
    });
  });

  it('imports the HL7 examples: every mapped one accepted by the profile', async () => {
    const res = await post(hl7Bundle());
    expect(res.statusCode, res.body).toBe(200);
    const r = res.json<Report>();
    expect(r.imported).toEqual({ ...zero, allergies: 2, diseases: 4, treatments: 3, familyHistory: 1 });
    expect(total(r)).toBe(4);
    expect((await post(hl7Bundle())).json<Report>().unchanged).toEqual(r.imported);
  });

  it('accepts bundles above the general 1 MB /api limit, up to 5 MB', async () => {
    const padded = (bytes: number) => ({
      resourceType: 'Bundle',
      type: 'batch',
      entry: [{ resource: { resourceType: 'Basic', id: 'pad', note: 'x'.repeat(bytes) } }],
    });
    const ok = await post(padded(2 * 1024 * 1024));
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json<Report>().skipped).toEqual([
      { resourceType: 'Basic', count: 1, reason: 'Basic is not imported' },
    ]);
    expect((await post(padded(6 * 1024 * 1024))).statusCode).toBe(413);
  });

  it('refuses malformed or unsupported bundles with the field, writing nothing', async () => {
    const cases: Array<[unknown, string]> = [
      [{ resourceType: 'Patient' }, 'resourceType'],
      [{ resourceType: 'Bundle', type: 'document', entry: [] }, 'type'],
      [{ resourceType: 'Bundle', type: 'searchset', entry: [] }, 'type'],
      [
        { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { id: 'x' } }] },
        'entry[0].resource.resourceType',
      ],
      [{ resourceType: 'Bundle', type: 'collection', entry: {} }, 'entry'],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json<{ error: { field: string } }>().error.field).toBe(field);
    }
    const anonymous = await rt.app.inject({
      method: 'POST',
      url: '/api/profile/import',
      payload: { resourceType: 'Bundle', type: 'collection' },
    });
    expect(anonymous.statusCode).toBe(401);
  });
});

describe('FHIR bundle import: all or nothing', () => {
  let rt: TestRuntime;
  let cookie: string;
  let patientId: string;

  beforeAll(async () => {
    rt = await createTestRuntime({ clock: NOW });
    patientId = (await seedPatient(rt.ctx, { login: 'atomic', password: 'correct horse battery' })).id;
    cookie = await sessionCookieFor(rt.app, 'atomic', 'correct horse battery');
  });
  afterAll(async () => rt.close());

  const post = (payload: unknown) =>
    rt.app.inject({
      method: 'POST',
      url: '/api/profile/import',
      headers: { cookie },
      payload: payload as object,
    });
  const rows = async () => {
    const count = async (
      table: 'profile_entries' | 'vaccinations' | 'measurements' | 'measurement_changes',
    ) =>
      Number(
        (
          await rt.ctx.rootDb
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .where('patient_id', '=', patientId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    return {
      profile: await count('profile_entries'),
      vaccinations: await count('vaccinations'),
      measurements: await count('measurements'),
      changes: await count('measurement_changes'),
    };
  };

  const vital = {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }],
  };
  const loinc = (c: string) => ({ coding: [{ system: 'http://loinc.org', code: c }] });
  const mmHg = (value: number) => ({
    value,
    unit: 'mmHg',
    system: 'http://unitsofmeasure.org',
    code: 'mm[Hg]',
  });
  const pressure = (fullUrl: string, systolic: number, diastolic: number) => ({
    fullUrl,
    resource: {
      resourceType: 'Observation',
      status: 'final',
      category: [vital],
      code: loinc('85354-9'),
      effectiveDateTime: '2026-10-01T08:00:00Z',
      component: [
        { code: loinc('8480-6'), valueQuantity: mmHg(systolic) },
        { code: loinc('8462-4'), valueQuantity: mmHg(diastolic) },
      ],
    },
  });
  /** One entry per part; `lastId` is the external id of the last blood-pressure panel. */
  const bundle = (lastId: string) => ({
    resourceType: 'Bundle',
    type: 'collection',
    identifier: { system: 'urn:test', value: 'atomic' },
    entry: [
      {
        fullUrl: 'urn:uuid:allergy-1',
        resource: {
          resourceType: 'AllergyIntolerance',
          clinicalStatus: { coding: [{ code: 'active' }] },
          code: { text: 'Arachide' },
        },
      },
      {
        fullUrl: 'urn:uuid:immunization-1',
        resource: {
          resourceType: 'Immunization',
          status: 'completed',
          vaccineCode: { text: 'Grippe' },
          occurrenceDateTime: '2025-10-15',
        },
      },
      {
        fullUrl: 'urn:uuid:weight-1',
        resource: {
          resourceType: 'Observation',
          status: 'final',
          category: [vital],
          code: loinc('29463-7'),
          effectiveDateTime: '2026-10-01',
          valueQuantity: { value: 70, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
        },
      },
      pressure('urn:uuid:bp-1', 125, 80),
      pressure('urn:uuid:bp-refused', 125, 900),
      pressure(lastId, 130, 85),
    ],
  });

  it('writes nothing when the last part fails, then imports the fixed bundle once', async () => {
    const before = await rows();
    // A NUL character passes the mapping and the validation but no PostgreSQL text column takes it:
    // the last blood-pressure panel fails in the database, after every other part was written.
    const broken = await post(bundle('urn:uuid:bp-\u0000-2'));
    expect(broken.statusCode, broken.body).toBeGreaterThanOrEqual(400);
    expect(await rows()).toEqual(before);

    const fixed = await post(bundle('urn:uuid:bp-2'));
    expect(fixed.statusCode, fixed.body).toBe(200);
    const r = fixed.json<Report>();
    expect(r.imported).toEqual({ ...zero, allergies: 1, immunizations: 1, measurements: 3 });
    expect(r.skipped).toContainEqual({
      resourceType: 'Observation',
      count: 1,
      reason: expect.stringMatching(/^refused: /) as string,
    });
    const after = { profile: 1, vaccinations: 1, measurements: 3, changes: 3 };
    expect(await rows()).toEqual({
      profile: before.profile + after.profile,
      vaccinations: before.vaccinations + after.vaccinations,
      measurements: before.measurements + after.measurements,
      changes: before.changes + after.changes,
    });

    const again = await post(bundle('urn:uuid:bp-2'));
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json<Report>().imported).toEqual(zero);
    expect(again.json<Report>().unchanged).toEqual({
      ...zero,
      allergies: 1,
      immunizations: 1,
      measurements: 3,
    });
    expect(await rows()).toEqual({
      profile: before.profile + after.profile,
      vaccinations: before.vaccinations + after.vaccinations,
      measurements: before.measurements + after.measurements,
      changes: before.changes + after.changes,
    });
  });
});
