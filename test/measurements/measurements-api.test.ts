import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestRuntime,
  seedPatient,
  seedProfessional,
  sessionCookieFor,
  tokenFor,
  type TestRuntime,
} from '../harness.ts';
import { addAccessRule } from '../../src/modules/access/index.ts';
import {
  importMeasurements,
  listMeasurements,
  measurementTypes,
} from '../../src/modules/measurements/index.ts';
import type { Patient } from '../../src/modules/identity/index.ts';

/** Measurements over /api and FHIR: types, validation, history, lock, series, targets, growth, round trips. */

const NOW = new Date('2026-11-20T10:00:00Z');
let rt: TestRuntime;
let cookie: string;
let patient: Patient;
let pro: Awaited<ReturnType<typeof seedProfessional>>;
let token: string;

interface Entry {
  id: string;
  type: string;
  value: number | null;
  values: Record<string, number>;
  unit: string;
  effective: string;
  locked: boolean;
  version: number;
  warnings?: string[];
  author: { kind: string };
}

beforeAll(async () => {
  rt = await createTestRuntime({ clock: NOW });
  patient = await seedPatient(rt.ctx, { login: 'mesures', password: 'correct horse battery' });
  cookie = await sessionCookieFor(rt.app, 'mesures', 'correct horse battery');
  pro = await seedProfessional(rt.ctx);
  token = await tokenFor(rt.app, pro);
  const owner = { kind: 'patient' as const, patientId: patient.id, display: 'Camille', sessionId: 's' };
  await addAccessRule(rt.ctx, owner, patient.id, { kind: 'role', role: 'gp', rpps: pro.rpps });
});
afterAll(async () => {
  await rt?.close();
});

const post = (payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
  rt.app.inject({ method: 'POST', url: '/api/measurements', headers: { cookie, ...headers }, payload });
const fhir = (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
  rt.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
    ...(payload ? { payload: JSON.stringify(payload) } : {}),
  });

describe('types', () => {
  it('lists the 16 types with LOINC and UCUM', async () => {
    const res = await rt.app.inject({ method: 'GET', url: '/api/measurements/types', headers: { cookie } });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ types: Array<{ id: string; loinc: string; unit: string }> }>();
    expect(body.types).toHaveLength(16);
    expect(body.types.find((t) => t.id === 'weight')).toMatchObject({ loinc: '29463-7', unit: 'kg' });
  });
});

describe('entries', () => {
  it('records a weight, refuses 700 kg with the reason, warns on an unusual value', async () => {
    const ok = await post({
      type: 'weight',
      value: 70.5,
      unit: 'kg',
      effective: '2026-11-19T08:00:00+01:00',
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json<Entry>()).toMatchObject({
      value: 70.5,
      unit: 'kg',
      author: { kind: 'patient' },
      warnings: [],
    });
    const bad = await post({ type: 'weight', value: 700, unit: 'kg', effective: '2026-11-19' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      error: { field: 'value', message: expect.stringContaining('700 kg') },
    });
    const odd = await post({ type: 'weight', value: 230, effective: '2026-11-19' });
    expect(odd.statusCode).toBe(201);
    expect(odd.json<Entry>().warnings?.[0]).toContain('unusual');
  });

  it('converts units and refuses unknown ones, future dates and unknown types', async () => {
    const g = await post({ type: 'glucose', value: 126, unit: 'mg/dL', effective: '2026-11-18' });
    expect(g.json<Entry>().value).toBeCloseTo(6.99, 1);
    const lb = await post({ type: 'weight', value: 154, unit: '[lb_av]', effective: '2026-11-18' });
    expect(lb.json<Entry>().value).toBeCloseTo(69.85, 1);
    const u = await post({ type: 'weight', value: 70, unit: 'stone', effective: '2026-11-18' });
    expect(u.json()).toMatchObject({ error: { field: 'unit' } });
    const f = await post({ type: 'weight', value: 70, effective: '2027-01-01' });
    expect(f.json()).toMatchObject({ error: { field: 'effective' } });
    const t = await post({ type: 'mood', value: 3, effective: '2026-11-18' });
    expect(t.json()).toMatchObject({ error: { field: 'type' } });
    const pain = await post({ type: 'pain', value: 4.5, effective: '2026-11-18' });
    expect(pain.json()).toMatchObject({ error: { field: 'value' } });
  });

  it('takes a blood pressure as one panel with both values', async () => {
    const bp = await post({
      type: 'blood_pressure',
      values: { systolic: 128, diastolic: 82 },
      effective: '2026-11-19',
    });
    expect(bp.statusCode).toBe(201);
    expect(bp.json<Entry>()).toMatchObject({ value: null, values: { systolic: 128, diastolic: 82 } });
    const half = await post({ type: 'blood_pressure', values: { systolic: 128 }, effective: '2026-11-19' });
    expect(half.json()).toMatchObject({ error: { field: 'type.diastolic' } });
  });

  it('is idempotent by Idempotency-Key', async () => {
    const body = { type: 'heart_rate', value: 64, effective: '2026-11-19T07:00:00Z' };
    const a = await post(body, { 'idempotency-key': 'hr-2026-11-19-a' });
    const b = await post(body, { 'idempotency-key': 'hr-2026-11-19-a' });
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(200);
    expect(b.json<Entry>().id).toBe(a.json<Entry>().id);
  });

  it('corrects with history, deletes, and pages', async () => {
    const e = (await post({ type: 'temperature', value: 38.2, effective: '2026-11-19' })).json<Entry>();
    const p = await rt.app.inject({
      method: 'PATCH',
      url: `/api/measurements/${e.id}`,
      headers: { cookie },
      payload: { value: 101.3, unit: '[degF]', version: 1 },
    });
    expect(p.statusCode).toBe(200);
    expect(p.json<Entry>()).toMatchObject({ value: 38.5, version: 2 });
    const stale = await rt.app.inject({
      method: 'PATCH',
      url: `/api/measurements/${e.id}`,
      headers: { cookie },
      payload: { comment: 'x', version: 1 },
    });
    expect(stale.statusCode).toBe(409);
    const d = await rt.app.inject({
      method: 'DELETE',
      url: `/api/measurements/${e.id}`,
      headers: { cookie },
    });
    expect(d.statusCode).toBe(204);
    const list = await rt.app.inject({
      method: 'GET',
      url: '/api/measurements?type=temperature',
      headers: { cookie },
    });
    expect(list.json<{ items: Entry[] }>().items.map((x) => x.id)).not.toContain(e.id);
    const page1 = await rt.app.inject({
      method: 'GET',
      url: '/api/measurements?limit=2',
      headers: { cookie },
    });
    const { items, nextCursor } = page1.json<{ items: Entry[]; nextCursor: string }>();
    expect(items).toHaveLength(2);
    const page2 = await rt.app.inject({
      method: 'GET',
      url: `/api/measurements?limit=2&cursor=${nextCursor}`,
      headers: { cookie },
    });
    expect(page2.json<{ items: Entry[] }>().items[0]?.id).not.toBe(items[1]?.id);
  });

  it('refuses a source document that is not the person’s', async () => {
    const res = await post({
      type: 'weight',
      value: 70,
      effective: '2026-11-19',
      sourceDocumentId: '00000000-0000-4000-8000-000000000000',
    });
    expect(res.json()).toMatchObject({ error: { field: 'sourceDocumentId' } });
  });
});

describe('series and targets', () => {
  it('downsamples into buckets with min, max, mean', async () => {
    for (let d = 1; d <= 10; d++) {
      await post({ type: 'steps', value: 1000 * d, effective: `2026-10-${String(d).padStart(2, '0')}` });
    }
    const res = await rt.app.inject({
      method: 'GET',
      url: '/api/measurements/series?type=steps&from=2026-10-01&to=2026-10-10T23:59:59Z&points=2',
      headers: { cookie },
    });
    const s = res.json<{
      total: number;
      buckets: Array<{ count: number; values: { steps: { min: number; max: number; mean: number } } }>;
    }>();
    expect(s.total).toBe(10);
    expect(s.buckets).toHaveLength(2);
    expect(s.buckets[0]?.values.steps).toEqual({ min: 1000, max: 5000, mean: 3000 });
    const tooMany = await rt.app.inject({
      method: 'GET',
      url: '/api/measurements/series?type=steps&points=501',
      headers: { cookie },
    });
    expect(tooMany.statusCode).toBe(400);
  });

  it('replaces and reads targets', async () => {
    const put = await rt.app.inject({
      method: 'PUT',
      url: '/api/measurements/targets',
      headers: { cookie },
      payload: {
        targets: [
          { type: 'systolic', high: 135, since: '2026-11-01' },
          { type: 'hba1c', low: 6, high: 7 },
        ],
      },
    });
    expect(put.statusCode).toBe(200);
    const get = await rt.app.inject({ method: 'GET', url: '/api/measurements/targets', headers: { cookie } });
    expect(get.json<{ targets: unknown[] }>().targets).toHaveLength(2);
    const bad = await rt.app.inject({
      method: 'PUT',
      url: '/api/measurements/targets',
      headers: { cookie },
      payload: { targets: [{ type: 'weight', low: 80, high: 60 }] },
    });
    expect(bad.json()).toMatchObject({ error: { field: 'targets[0].low' } });
  });
});

describe('FHIR Observation', () => {
  const ins = () => ({ system: `urn:oid:${patient.ins.oid}`, value: patient.ins.matricule });
  const vital = {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }],
  };

  it('round-trips every type API → FHIR → API', async () => {
    for (const t of measurementTypes().types) {
      const mid = t.plausible
        ? Math.round(((t.usual ?? t.plausible).min + (t.usual ?? t.plausible).max) / 2)
        : 0;
      const body = t.components
        ? { type: t.id, values: { systolic: 120, diastolic: 80 }, effective: '2026-11-15' }
        : { type: t.id, value: mid, effective: '2026-11-15' };
      const created = await post(body);
      expect(created.statusCode, `${t.id}: ${created.body}`).toBe(201);
      const e = created.json<Entry>();
      const read = await fhir('GET', `/fhir/R4/Observation/${e.id}`);
      expect(read.statusCode).toBe(200);
      const obs = read.json<Record<string, unknown>>();
      expect(obs).toMatchObject({ code: { coding: [{ code: t.loinc }] }, category: [vital] });
      // Back through FHIR as a professional's entry, then read through the API.
      const { id: _id, meta: _meta, ...copy } = obs;
      const again = await fhir('POST', '/fhir/R4/Observation', { ...copy, effectiveDateTime: '2026-11-16' });
      expect(again.statusCode, `${t.id}: ${again.body}`).toBe(201);
      const back = await rt.app.inject({
        method: 'GET',
        url: `/api/measurements?type=${t.id}&from=2026-11-16&to=2026-11-16T23:59:59Z`,
        headers: { cookie },
      });
      const [entry] = back.json<{ items: Entry[] }>().items;
      expect(entry).toMatchObject({ values: e.values, locked: true, author: { kind: 'professional' } });
    }
  });

  it('locks a professional’s entry for the patient', async () => {
    const res = await fhir('POST', '/fhir/R4/Observation', {
      resourceType: 'Observation',
      status: 'final',
      category: [vital],
      code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
      subject: { identifier: ins() },
      effectiveDateTime: '2026-11-19T09:00:00+01:00',
      valueQuantity: { value: 71, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    });
    expect(res.statusCode).toBe(201);
    const id = res.json<{ id: string }>().id;
    const patch = await rt.app.inject({
      method: 'PATCH',
      url: `/api/measurements/${id}`,
      headers: { cookie },
      payload: { value: 60 },
    });
    expect(patch.statusCode).toBe(403);
    expect(patch.json<{ error: { message: string } }>().error.message).toContain('professional');
  });

  it('points at the faulty element', async () => {
    const base = {
      resourceType: 'Observation',
      status: 'final',
      category: [vital],
      code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
      subject: { identifier: ins() },
      effectiveDateTime: '2026-11-19',
      valueQuantity: { value: 71, system: 'http://unitsofmeasure.org', code: 'kg' },
    };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, valueQuantity: { ...base.valueQuantity, code: 'kgg' } }, 'Observation.valueQuantity.code'],
      [{ ...base, valueQuantity: { ...base.valueQuantity, value: 700 } }, 'Observation.valueQuantity.value'],
      [
        { ...base, valueQuantity: { ...base.valueQuantity, system: 'http://x' } },
        'Observation.valueQuantity.system',
      ],
      [{ ...base, valueQuantity: { ...base.valueQuantity, value: '71' } }, 'Observation.valueQuantity.value'],
      [{ ...base, category: undefined }, 'Observation.category'],
      [{ ...base, status: 'cancelled' }, 'Observation.status'],
      [{ ...base, effectiveDateTime: '2026-13-01' }, 'Observation.effectiveDateTime'],
      [{ ...base, subject: { reference: 'Patient/example' } }, 'Observation.subject.reference'],
      [{ ...base, code: { coding: [{ system: 'http://loinc.org', code: '8478-0' }] } }, 'Observation.code'],
    ];
    for (const [body, expression] of cases) {
      const res = await fhir('POST', '/fhir/R4/Observation', body);
      expect(res.statusCode, expression).toBe(400);
      expect(res.json<{ issue: Array<{ expression: string[] }> }>().issue[0]?.expression).toEqual([
        expression,
      ]);
    }
  });

  it('searches by patient, code and date', async () => {
    const q = `patient.identifier=${encodeURIComponent(`urn:oid:${patient.ins.oid}|${patient.ins.matricule}`)}`;
    const res = await fhir(
      'GET',
      `/fhir/R4/Observation?${q}&code=http://loinc.org|85354-9&date=ge2026-11-19&_count=50`,
    );
    expect(res.statusCode).toBe(200);
    const bundle = res.json<{ entry: Array<{ resource: { component: unknown[] } }> }>();
    expect(bundle.entry.length).toBeGreaterThan(0);
    expect(bundle.entry[0]?.resource.component).toHaveLength(2);
  });

  it('stores the ANS device bundle all or nothing, and keeps ITI-65 for documents', async () => {
    const bundle = (value: number) => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:d36bfdb6-b1b1-4efd-9cb9-d217a8696575',
          resource: {
            resourceType: 'Device',
            id: 'd36bfdb6-b1b1-4efd-9cb9-d217a8696575',
            manufacturer: 'OMRONHEALTHCARE',
            modelNumber: 'HEM-9200T',
            deviceName: [{ name: 'Ma balance', type: 'patient-reported-name' }],
          },
          request: { method: 'POST', url: 'Device' },
        },
        {
          fullUrl: 'urn:uuid:5138af77-df7e-4b9d-ba17-07ba3ebb950a',
          resource: {
            resourceType: 'Observation',
            status: 'final',
            category: [vital],
            code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Body weight' }] },
            subject: { identifier: ins() },
            device: { reference: 'd36bfdb6-b1b1-4efd-9cb9-d217a8696575' },
            effectiveDateTime: '2026-08-22T01:56:16+01:00',
            valueQuantity: { value, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
            extension: [
              {
                url: 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/mesures-reason-for-measurement',
                valueString: 'Mon nouveau poids !',
              },
            ],
          },
          request: { method: 'POST', url: 'Observation' },
        },
        {
          fullUrl: 'urn:uuid:5138af77-df7e-4b9d-ba17-07ba3ebb950b',
          resource: {
            resourceType: 'Observation',
            status: 'final',
            category: [vital],
            code: { coding: [{ system: 'http://loinc.org', code: '39156-5' }] },
            subject: { identifier: ins() },
            effectiveDateTime: '2026-08-22T01:56:16+01:00',
            valueQuantity: { value: 24.1, system: 'http://unitsofmeasure.org', code: 'kg/m2' },
          },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    });
    const before = (
      await listMeasurements(rt.ctx, { kind: 'system', display: 't' }, patient.id, {
        types: ['weight', 'bmi'],
      })
    ).items.length;
    const refused = await fhir('POST', '/fhir/R4', bundle(700));
    expect(refused.statusCode).toBe(400);
    expect(refused.json<{ issue: Array<{ expression: string[] }> }>().issue[0]?.expression).toEqual([
      'Bundle.entry[1].resource.valueQuantity.value',
    ]);
    const ok = await fhir('POST', '/fhir/R4', bundle(71));
    expect(ok.statusCode, ok.body).toBe(200);
    expect(
      ok
        .json<{ type: string; entry: Array<{ response: { status: string } }> }>()
        .entry.map((e) => e.response.status),
    ).toEqual(['200 OK', '201 Created', '201 Created']);
    const after = await listMeasurements(rt.ctx, { kind: 'system', display: 't' }, patient.id, {
      types: ['weight', 'bmi'],
    });
    expect(after.items.length).toBe(before + 2);
    expect(
      after.items.find((m) => m.type === 'weight' && m.effective.startsWith('2026-08-22')),
    ).toMatchObject({
      device: { display: 'Ma balance — OMRONHEALTHCARE — HEM-9200T' },
      comment: 'Mon nouveau poids !',
    });
  });
});

describe('import', () => {
  it('is idempotent by source and external id, and reports what it skipped', async () => {
    const system = { kind: 'system' as const, display: 'Import' };
    const items = [
      {
        loinc: '8302-2',
        value: 1.68,
        unit: 'm',
        effective: '2020-01-01',
        externalId: 'h1',
        source: 'urn:test',
      },
      {
        loinc: '2093-3',
        value: 5,
        unit: 'mmol/L',
        effective: '2020-01-01',
        externalId: 'c1',
        source: 'urn:test',
      },
    ];
    const first = await importMeasurements(rt.ctx, system, patient.id, items);
    const second = await importMeasurements(rt.ctx, system, patient.id, items);
    expect(first).toMatchObject({ imported: 1, unchanged: 0, skipped: [{ externalId: 'c1' }] });
    expect(second).toMatchObject({ imported: 0, unchanged: 1 });
  });
});

describe('growth', () => {
  it('gives the WHO percentile of a child’s weight from the shipped tables', async () => {
    await growthCase(rt);
  });

  it('answers 503 with the reason when the configured tables are missing or altered', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'carnet-growth-'));
    const grt = await createTestRuntime({ clock: NOW, env: { CARNET_GROWTH_TABLES_DIR: empty } });
    try {
      const res = await grt.app.inject({
        method: 'GET',
        url: '/api/measurements/growth?type=weight',
        headers: { cookie: (await seedWithCookie(grt, 'bebe0', '2026-05-20')).cookie },
      });
      expect(res.statusCode, res.body).toBe(503);
      expect(res.body).toMatch(/[Gg]rowth table/);
    } finally {
      await grt.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

async function seedWithCookie(rt: TestRuntime, login: string, birthDate: string) {
  const patient = await seedPatient(rt.ctx, { login, password: 'correct horse battery', birthDate });
  return { patient, cookie: await sessionCookieFor(rt.app, login, 'correct horse battery') };
}

async function growthCase(rt: TestRuntime): Promise<void> {
  {
    const child = await seedPatient(rt.ctx, {
      login: 'bebe',
      password: 'correct horse battery',
      birthDate: '2026-05-20',
    });
    const c = await sessionCookieFor(rt.app, 'bebe', 'correct horse battery');
    // Girl at 0 days: M = 3.2322 kg is the median.
    await rt.app.inject({
      method: 'POST',
      url: '/api/measurements',
      headers: { cookie: c },
      payload: { type: 'weight', value: 3.2322, effective: '2026-05-20' },
    });
    const res = await rt.app.inject({
      method: 'GET',
      url: '/api/measurements/growth?type=weight',
      headers: { cookie: c },
    });
    expect(res.statusCode, res.body).toBe(200);
    const g = res.json<{
      sex: string;
      points: Array<{ percentile: number; zScore: number }>;
      curves: unknown[];
    }>();
    expect(g.sex).toBe('F');
    expect(g.points[0]).toMatchObject({ zScore: 0, percentile: 50 });
    expect(g.curves.length).toBeGreaterThan(5);
    expect(child.id).toBeTruthy();
  }
}
