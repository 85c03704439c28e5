import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccessRule, type PatientActor } from '../../src/modules/access/index.ts';
import {
  confirmVaccination,
  importImmunizations,
  listDueVaccinations,
  recordVaccination,
} from '../../src/modules/vaccinations/index.ts';
import {
  createTestRuntime,
  NIR_OID,
  seedPatient,
  seedProfessional,
  sessionCookieFor,
  tokenFor,
  type TestRuntime,
} from '../harness.ts';

let rt: TestRuntime;
let cookie: string;
let patient: Awaited<ReturnType<typeof seedPatient>>;
let owner: PatientActor;
let pro: Awaited<ReturnType<typeof seedProfessional>>;
let bearer: string;
const ins = () => `urn:oid:${NIR_OID}|${patient.ins.matricule}`;
const proActor = () => ({
  kind: 'professional' as const,
  professionalId: pro.id,
  rpps: pro.rpps,
  professionCode: '10',
  specialtyCode: 'SM54',
  display: 'Dr Jean Docteur',
  organizationId: pro.organizationId,
  clientId: pro.clientId,
});

beforeAll(async () => {
  rt = await createTestRuntime({ clock: new Date('2025-09-15T10:00:00Z') });
  // Born 2025-01-10: 8 months old on the test day.
  patient = await seedPatient(rt.ctx, {
    login: 'vacc-baby',
    password: 'correct horse 42',
    birthDate: '2025-01-10',
  });
  cookie = await sessionCookieFor(rt.app, 'vacc-baby', 'correct horse 42');
  owner = { kind: 'patient', patientId: patient.id, display: 'Camille Test', sessionId: 's' };
  pro = await seedProfessional(rt.ctx);
  await addAccessRule(rt.ctx, owner, patient.id, { kind: 'care_team', rpps: pro.rpps });
  bearer = await tokenFor(rt.app, pro);
});
afterAll(async () => rt.close());

const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers = {}) =>
  rt.app.inject({ method, url, headers: { cookie, ...headers }, ...(payload ? { payload } : {}) });
const fhir = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
  rt.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/fhir+json' },
    ...(payload ? { payload: JSON.stringify(payload) } : {}),
  });

const hexa = {
  product: { system: 'http://www.whocc.no/atc', code: 'J07CA09', display: 'Hexavalent' },
  date: '2025-03-12',
  lotNumber: 'LOT-1',
  kind: 'primary',
  doseNumber: 1,
};

describe('vaccination record API', () => {
  it('records, replays with Idempotency-Key, lists, changes and keeps history', async () => {
    const created = await api('POST', '/api/vaccinations', hexa, { 'idempotency-key': 'vacc-key-0001' });
    expect(created.statusCode).toBe(201);
    const v = created.json<{
      id: string;
      targetDiseases: string[];
      author: { kind: string };
      locked: boolean;
    }>();
    expect(v.targetDiseases).toContain('hib');
    expect(v.author.kind).toBe('patient');
    expect(v.locked).toBe(false);
    const replay = await api('POST', '/api/vaccinations', hexa, { 'idempotency-key': 'vacc-key-0001' });
    expect(replay.statusCode).toBe(200);
    expect(replay.json<{ id: string }>().id).toBe(v.id);
    const list = await api('GET', '/api/vaccinations');
    expect(list.json<{ items: unknown[] }>().items).toHaveLength(1);
    const patched = await api('PATCH', `/api/vaccinations/${v.id}`, { comment: 'cuisse gauche', version: 1 });
    expect(patched.statusCode).toBe(200);
    expect(patched.json<{ version: number }>().version).toBe(2);
    const stale = await api('PATCH', `/api/vaccinations/${v.id}`, { comment: 'x', version: 1 });
    expect(stale.statusCode).toBe(409);
    const history = await api('GET', `/api/vaccinations/${v.id}/history`);
    expect(history.json<{ items: Array<{ change: string }> }>().items.map((c) => c.change)).toEqual([
      'create',
      'update',
    ]);
  });

  it('refuses bad input per field', async () => {
    const future = await api('POST', '/api/vaccinations', { ...hexa, date: '2030-01-01' });
    expect(future.statusCode).toBe(400);
    expect(future.json<{ error: { field: string } }>().error.field).toBe('date');
    const disease = await api('POST', '/api/vaccinations', { ...hexa, targetDiseases: ['plague'] });
    expect(disease.json<{ error: { field: string } }>().error.field).toBe('targetDiseases');
  });

  it('locks entries confirmed by a professional for the patient (403 with the reason)', async () => {
    const { vaccination } = await recordVaccination(rt.ctx, owner, patient.id, {
      product: { display: 'ROR' },
      targetDiseases: ['measles', 'mumps', 'rubella'],
      date: '2025-09-01',
    });
    const confirmed = await confirmVaccination(rt.ctx, proActor(), vaccination.id);
    expect(confirmed.locked).toBe(true);
    const res = await api('PATCH', `/api/vaccinations/${vaccination.id}`, { comment: 'x' });
    expect(res.statusCode).toBe(403);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/confirmed by a professional/);
    expect((await api('DELETE', `/api/vaccinations/${vaccination.id}`)).statusCode).toBe(403);
    const history = await api('GET', `/api/vaccinations/${vaccination.id}/history`);
    expect(history.json<{ items: Array<{ change: string }> }>().items.at(-1)?.change).toBe('confirm');
  });

  it('deletes own entries, keeping their history', async () => {
    const res = await api('POST', '/api/vaccinations', {
      product: { display: 'Grippe' },
      date: '2025-02-01',
    });
    const id = res.json<{ id: string }>().id;
    expect((await api('DELETE', `/api/vaccinations/${id}`)).statusCode).toBe(204);
    expect((await api('GET', `/api/vaccinations/${id}`)).statusCode).toBe(404);
    const h = await api('GET', `/api/vaccinations/${id}/history`);
    expect(h.json<{ items: Array<{ change: string }> }>().items.map((c) => c.change)).toEqual([
      'create',
      'delete',
    ]);
  });

  it('computes due and overdue vaccinations from the calendar', async () => {
    const res = await api('GET', '/api/vaccinations/due');
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      calendar: { version: string };
      items: Array<{ ruleId: string; doseNumber: number; status: string }>;
    }>();
    expect(body.calendar.version).toBe('fr-2025.1');
    const byRule = new Map(body.items.map((i) => [i.ruleId, i]));
    // One hexavalent dose on record: the 2nd (4 months, 2025-05-10) is overdue on 2025-09-15.
    expect(byRule.get('dtcap-hib-hepb')).toMatchObject({ doseNumber: 2, status: 'overdue' });
    expect(byRule.get('menacwy-infant')).toMatchObject({ doseNumber: 1, status: 'overdue' });
    expect(byRule.has('ror')).toBe(false); // due at 12 months
    expect(byRule.has('dtp-adult')).toBe(false);
  });

  it('applies a new calendar version without code changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calendar-'));
    const base = readFileSync(
      new URL('../../refdata/vaccination/calendar-fr-2025.json', import.meta.url),
      'utf8',
    );
    writeFileSync(join(dir, 'calendar-fr-2025.json'), base);
    const next = JSON.parse(base) as {
      version: string;
      schedule: Array<{ id: string; rule: { doses?: Array<{ at: string }> } }>;
    };
    next.version = 'fr-2026.1';
    const ror = next.schedule.find((e) => e.id === 'ror');
    if (!ror?.rule.doses) throw new Error('no ror rule');
    // The changed rule: the 2nd MMR dose moves from 16–18 months to 7 months.
    ror.rule.doses[1] = { at: 'M7' };
    writeFileSync(join(dir, 'calendar-fr-2026.json'), JSON.stringify(next));
    const due = await listDueVaccinations(rt.ctx, owner, patient.id, { calendarDir: dir });
    expect(due.calendar.version).toBe('fr-2026.1');
    expect(due.items.find((i) => i.ruleId === 'ror')).toMatchObject({ doseNumber: 2 });
  });

  it('imports idempotently with author kind import', async () => {
    const items = [
      {
        externalId: 'imm-1',
        product: { display: 'BCG' },
        targetDiseases: ['tuberculosis'],
        date: '2025-02-02',
      },
    ];
    const first = await importImmunizations(rt.ctx, owner, patient.id, items, { source: 'test-bundle' });
    const second = await importImmunizations(rt.ctx, owner, patient.id, items, { source: 'test-bundle' });
    expect(first.imported).toBe(1);
    expect(second).toMatchObject({ imported: 0, unchanged: 1, ids: first.ids });
    const one = await api('GET', `/api/vaccinations/${first.ids[0] ?? ''}`);
    expect(one.json<{ author: { kind: string } }>().author.kind).toBe('import');
  });
});

describe('FHIR Immunization', () => {
  const resource = (extra: Record<string, unknown> = {}) => ({
    resourceType: 'Immunization',
    status: 'completed',
    vaccineCode: {
      coding: [{ system: 'https://smt.esante.gouv.fr/terminologie-bdpm', code: '61402736' }],
      text: 'VAXIGRIPTETRA',
    },
    patient: { identifier: { system: `urn:oid:${NIR_OID}`, value: patient.ins.matricule } },
    occurrenceDateTime: '2025-09-10',
    lotNumber: 'K123AB',
    ...extra,
  });

  it('creates, reads and searches; the entry is locked for the patient; round trip to the API', async () => {
    const res = await fhir(
      'POST',
      '/fhir/R4/Immunization',
      resource({ identifier: [{ system: 'urn:test', value: 'i-1' }] }),
    );
    expect(res.statusCode).toBe(201);
    const created = res.json<{ id: string; protocolApplied: Array<{ targetDisease: unknown[] }> }>();
    expect(created.protocolApplied[0]?.targetDisease).toHaveLength(1);
    const replay = await fhir(
      'POST',
      '/fhir/R4/Immunization',
      resource({ identifier: [{ system: 'urn:test', value: 'i-1' }] }),
    );
    expect(replay.statusCode).toBe(200);
    const read = await fhir('GET', `/fhir/R4/Immunization/${created.id}`);
    expect(read.json<{ lotNumber: string }>().lotNumber).toBe('K123AB');
    const search = await fhir(
      'GET',
      `/fhir/R4/Immunization?patient.identifier=${encodeURIComponent(ins())}&date=ge2025-09-01`,
    );
    const bundle = search.json<{ entry: Array<{ resource: { id: string } }> }>();
    expect(bundle.entry.map((e) => e.resource.id)).toContain(created.id);
    const viaApi = await api('GET', `/api/vaccinations/${created.id}`);
    expect(viaApi.json()).toMatchObject({
      product: { code: '61402736' },
      author: { kind: 'professional' },
      locked: true,
      lotNumber: 'K123AB',
    });
    const patch = await api('PATCH', `/api/vaccinations/${created.id}`, { lotNumber: 'X' });
    expect(patch.statusCode).toBe(403);
    expect(patch.json<{ error: { message: string } }>().error.message).toMatch(/recorded by a professional/);
  });

  it('round trip API → FHIR → API', async () => {
    const made = await api('POST', '/api/vaccinations', {
      ...hexa,
      date: '2025-05-12',
      doseNumber: 2,
      vaccinator: { display: 'Dr Martin' },
    });
    const id = made.json<{ id: string }>().id;
    const read = await fhir('GET', `/fhir/R4/Immunization/${id}`);
    const r = read.json<Record<string, unknown>>();
    const { id: _id, meta: _meta, recorded: _rec, ...copy } = r;
    const again = await fhir('POST', '/fhir/R4/Immunization', copy);
    expect(again.statusCode).toBe(201);
    const back = await api('GET', `/api/vaccinations/${again.json<{ id: string }>().id}`);
    const orig = await api('GET', `/api/vaccinations/${id}`);
    const pick = (b: Record<string, unknown>) => ({
      product: b.product,
      date: b.date,
      lotNumber: b.lotNumber,
      kind: b.kind,
      doseNumber: b.doseNumber,
      targetDiseases: b.targetDiseases,
      vaccinator: b.vaccinator,
    });
    expect(pick(back.json())).toEqual(pick(orig.json()));
  });

  it.each([
    [{ status: undefined }, 'Immunization.status'],
    [{ status: 'done' }, 'Immunization.status'],
    [{ vaccineCode: {} }, 'Immunization.vaccineCode'],
    [{ occurrenceDateTime: undefined }, 'Immunization.occurrence'],
    [{ occurrenceDateTime: '2025-02-30' }, 'Immunization.occurrenceDateTime'],
    [{ lotNumber: 12 }, 'Immunization.lotNumber'],
    [{ patient: { reference: 'Patient/example' } }, 'Immunization.patient.reference'],
  ])('refuses %j with an OperationOutcome at %s', async (change, expression) => {
    const res = await fhir('POST', '/fhir/R4/Immunization', resource(change));
    expect(res.statusCode).toBe(400);
    const oo = res.json<{ resourceType: string; issue: Array<{ expression?: string[] }> }>();
    expect(oo.resourceType).toBe('OperationOutcome');
    expect(oo.issue[0]?.expression).toEqual([expression]);
  });

  // The HL7 R4 examples, with their subject rewritten to the seeded patient's INS (they name Patient/example).
  const example = (name: string) =>
    JSON.parse(
      readFileSync(`/work/shared/fixtures/hl7-r4-examples/Immunization/${name}.json`, 'utf8'),
    ) as Record<string, unknown>;
  it.each([
    ['Immunization-example', 400, 'Immunization.isSubpotent'],
    ['Immunization-notGiven', 201, 'not-done'],
    ['Immunization-subpotent', 201, 'completed'],
  ])('HL7 example %s: %i', async (name, status, detail) => {
    const body = {
      ...example(name),
      patient: { identifier: { system: `urn:oid:${NIR_OID}`, value: patient.ins.matricule } },
    };
    const res = await fhir('POST', '/fhir/R4/Immunization', body);
    expect(res.statusCode).toBe(status);
    if (status === 400)
      expect(res.json<{ issue: Array<{ expression?: string[] }> }>().issue[0]?.expression).toEqual([detail]);
    else expect(res.json<{ status: string }>().status).toBe(detail);
  });
});
