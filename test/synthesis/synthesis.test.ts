import { pdfContent as pageText, pdfHex as hex } from '../pdf.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccessRule, type PatientActor } from '../../src/modules/access/index.ts';
import {
  createTestRuntime,
  NIR_OID,
  seedPatient,
  seedProfessional,
  sessionCookieFor,
  tokenFor,
  type TestRuntime,
} from '../harness.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- FHIR JSON under test
type Loose = any;

const AUTHOR_KIND = 'urn:carnet:CodeSystem/author-kind';
let rt: TestRuntime;
let cookie: string;
let patient: Awaited<ReturnType<typeof seedPatient>>;
let gpToken: string;
let strangerToken: string;
let blockedToken: string;

const api = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) =>
  rt.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload: payload } : {}) });
const summary = (token: string, identifier = `urn:oid:${NIR_OID}|${patient.ins.matricule}`) =>
  rt.app.inject({
    method: 'GET',
    url: `/fhir/R4/Patient/$summary?identifier=${encodeURIComponent(identifier)}`,
    headers: { authorization: `Bearer ${token}` },
  });

const ENTRIES: Record<string, Record<string, unknown>> = {
  allergies: {
    substance: { text: 'Amoxicilline', coding: { system: 'http://snomed.info/sct', code: '372687004' } },
    kind: 'allergy',
    category: 'medication',
    reaction: 'Urticaire',
    severity: 'moderate',
    criticality: 'high',
    since: '2015-04-01',
  },
  diseases: { condition: { text: 'Asthme' }, status: 'active', since: '2001-09-01' },
  treatments: {
    name: { text: 'Ramipril 5 mg' },
    dose: '1 comprimé',
    frequency: 'le matin',
    since: '2020-01-15',
  },
  hospitalisations: {
    kind: 'surgery',
    reason: { text: 'Appendicectomie' },
    date: '2010-06-20',
    place: 'CHU de Nantes',
  },
  'family-history': { relationship: 'mother', condition: { text: 'Diabète de type 2' }, ageAtOnset: 55 },
  disabilities: { type: 'sensory', description: 'Surdité partielle', rateBand: '50-79', humanHelp: false },
  'blood-group': { abo: 'O', rhesus: 'negative' },
  lifestyle: { topic: 'tobacco', description: 'Non-fumeur depuis 2018' },
  contacts: { role: 'emergency', name: 'Paul Martin', phone: '+33 6 12 34 56 78' },
};

beforeAll(async () => {
  rt = await createTestRuntime({ clock: new Date('2026-11-20T10:00:00Z') });
  patient = await seedPatient(rt.ctx, {
    login: 'synth-owner',
    password: 'correct horse 42',
    birthDate: '1980-03-02',
  });
  cookie = await sessionCookieFor(rt.app, 'synth-owner', 'correct horse 42');
  const owner: PatientActor = { kind: 'patient', patientId: patient.id, display: 'Owner', sessionId: 's' };
  const gp = await seedProfessional(rt.ctx);
  const stranger = await seedProfessional(rt.ctx);
  const blocked = await seedProfessional(rt.ctx);
  await addAccessRule(rt.ctx, owner, patient.id, { kind: 'role', rpps: gp.rpps, role: 'gp' });
  await addAccessRule(rt.ctx, owner, patient.id, { kind: 'care_team', rpps: blocked.rpps });
  await addAccessRule(rt.ctx, owner, patient.id, { kind: 'block', rpps: blocked.rpps });
  gpToken = await tokenFor(rt.app, gp);
  strangerToken = await tokenFor(rt.app, stranger);
  blockedToken = await tokenFor(rt.app, blocked);

  for (const [section, fields] of Object.entries(ENTRIES)) {
    const res = await api('POST', `/api/profile/${section}/entries`, { fields });
    expect(res.statusCode, res.body).toBe(201);
  }
  expect((await api('PUT', '/api/profile/care-team/state', { notConcerned: true })).statusCode).toBe(200);
  for (const m of [
    { type: 'weight', value: 81.3, unit: 'kg', effective: '2026-01-10T08:00:00Z' },
    { type: 'weight', value: 72.4, unit: 'kg', effective: '2026-11-19T08:00:00Z' },
    { type: 'heart_rate', value: 64, unit: '/min', effective: '2026-11-18T08:00:00Z' },
  ]) {
    const res = await api('POST', '/api/measurements', m);
    expect(res.statusCode, res.body).toBe(201);
  }
  const vacc = await api('POST', '/api/vaccinations', {
    product: { display: 'Revaxis' },
    date: '2024-05-02',
    kind: 'booster',
    lotNumber: 'LOT-77',
  });
  expect(vacc.statusCode, vacc.body).toBe(201);
  // One vaccination recorded by the GP's software: provenance professional.
  const pro = await rt.app.inject({
    method: 'POST',
    url: '/fhir/R4/Immunization',
    headers: { authorization: `Bearer ${gpToken}`, 'content-type': 'application/fhir+json' },
    payload: JSON.stringify({
      resourceType: 'Immunization',
      status: 'completed',
      vaccineCode: { text: 'Vaxigrip' },
      patient: { identifier: { system: `urn:oid:${NIR_OID}`, value: patient.ins.matricule } },
      occurrenceDateTime: '2025-10-20',
    }),
  });
  expect(pro.statusCode, pro.body).toBe(201);
});
afterAll(async () => rt.close());

describe('synthesis PDF', () => {
  it('is saved as a patient document of category profile-synthesis with only the chosen sections', async () => {
    const res = await api('POST', '/api/synthesis', {
      sections: ['allergies', 'treatments', 'measurements'],
      title: 'Ma synthèse',
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json<{ documentId: string; category: string; sections: string[]; omitted: string[] }>();
    expect(body).toMatchObject({
      category: 'profile-synthesis',
      sections: ['allergies', 'treatments', 'measurements'],
      omitted: [],
    });

    const list = await api('GET', '/api/documents');
    expect(list.statusCode, list.body).toBe(200);
    const doc = list.json<{ items: Loose[] }>().items.find((d) => d.id === body.documentId);
    expect(doc).toMatchObject({
      title: 'Ma synthèse',
      category: 'profile-synthesis',
      mediaType: 'application/pdf',
    });
    expect(JSON.stringify(doc)).toContain('patient');

    const content = await api('GET', `/api/documents/${body.documentId}/content`);
    expect(content.statusCode).toBe(200);
    const text = pageText(content.rawPayload);
    for (const shown of [
      'ALLERGIES ET INTOLÉRANCES',
      'TRAITEMENTS',
      'Amoxicilline',
      'Ramipril 5 mg',
      '72.4',
      'saisi par la personne',
    ])
      expect(text, shown).toContain(hex(shown));
    // The older weight is not the latest; unchosen sections are absent.
    for (const hidden of [
      '81.3',
      'Asthme',
      'VACCINATIONS',
      'Revaxis',
      'ANTÉCÉDENTS FAMILIAUX',
      'Paul Martin',
      'Appendicectomie',
    ])
      expect(text, hidden).not.toContain(hex(hidden));
  });

  it('refuses an empty or unknown section list, naming the field', async () => {
    const empty = await api('POST', '/api/synthesis', { sections: [] });
    expect(empty.statusCode).toBe(400);
    expect(empty.json<Loose>().error.field).toMatch(/^sections/);
    const unknown = await api('POST', '/api/synthesis', { sections: ['secrets'] });
    expect(unknown.statusCode).toBe(400);
  });

  it('includes vaccinations and contacts when chosen', async () => {
    const res = await api('POST', '/api/synthesis', { sections: ['vaccinations', 'contacts', 'care-team'] });
    expect(res.statusCode, res.body).toBe(201);
    const content = await api(
      'GET',
      `/api/documents/${res.json<{ documentId: string }>().documentId}/content`,
    );
    const text = pageText(content.rawPayload);
    for (const shown of ['Revaxis', 'Vaxigrip', 'saisi par un professionnel', 'Paul Martin', 'Non concern'])
      expect(text, shown).toContain(hex(shown));
    expect(text).not.toContain(hex('Amoxicilline'));
  });
});

function resources(bundle: Loose): Loose[] {
  return bundle.entry.map((e: Loose) => e.resource);
}
function sectionOf(bundle: Loose, code: string): Loose {
  return bundle.entry[0].resource.section.find((s: Loose) => s.code.coding[0].code === code);
}
function entriesOf(bundle: Loose, code: string): Loose[] {
  const byUrl = new Map(bundle.entry.map((e: Loose) => [e.fullUrl, e.resource]));
  return (sectionOf(bundle, code)?.entry ?? []).map((r: Loose) => byUrl.get(r.reference));
}

describe('IPS-like FHIR Bundle', () => {
  let bundle: Loose;
  beforeAll(async () => {
    const res = await api('GET', '/api/synthesis/fhir');
    expect(res.statusCode, res.body).toBe(200);
    bundle = res.json();
  });

  it('is a document Bundle: Composition first, sections with resolvable entries, provenance on every entry', () => {
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'document' });
    const composition = bundle.entry[0].resource;
    expect(composition).toMatchObject({
      resourceType: 'Composition',
      status: 'final',
      type: { coding: [{ system: 'http://loinc.org', code: '60591-5' }] },
    });
    expect(bundle.entry[1].resource).toMatchObject({
      resourceType: 'Patient',
      identifier: [{ system: `urn:oid:${NIR_OID}`, value: patient.ins.matricule }],
      birthDate: '1980-03-02',
    });
    const urls = new Set(bundle.entry.map((e: Loose) => e.fullUrl));
    for (const s of composition.section)
      for (const ref of s.entry ?? []) expect(urls.has(ref.reference), ref.reference).toBe(true);
    const codes = composition.section.map((s: Loose) => s.code.coding[0].code);
    expect(codes).toEqual([
      '48765-2',
      '11450-4',
      '10160-0',
      '11369-6',
      '8716-3',
      '47519-4',
      '10157-6',
      '47420-5',
      '30954-2',
      '29762-2',
    ]);
    for (const r of resources(bundle).slice(2)) {
      const tag = r.meta.tag.find((t: Loose) => t.system === AUTHOR_KIND);
      expect(tag?.code, r.resourceType).toMatch(/^(patient|representative|app|professional|import)$/);
    }
    const kinds = entriesOf(bundle, '11369-6').map((r) => [r.vaccineCode.text, r.meta.tag[0].code]);
    expect(kinds.sort()).toEqual([
      ['Revaxis', 'patient'],
      ['Vaxigrip', 'professional'],
    ]);
  });

  it('round-trips every mapped profile section, the latest measurements and vaccinations', () => {
    const [allergy] = entriesOf(bundle, '48765-2');
    expect(allergy).toMatchObject({
      resourceType: 'AllergyIntolerance',
      type: 'allergy',
      category: ['medication'],
      criticality: 'high',
      code: { text: 'Amoxicilline', coding: [{ system: 'http://snomed.info/sct', code: '372687004' }] },
      onsetDateTime: '2015-04-01',
      reaction: [{ manifestation: [{ text: 'Urticaire' }], severity: 'moderate' }],
      patient: { reference: `urn:uuid:${patient.id}` },
    });
    expect(entriesOf(bundle, '11450-4')).toMatchObject([
      {
        resourceType: 'Condition',
        code: { text: 'Asthme' },
        clinicalStatus: { coding: [{ code: 'active' }] },
        onsetDateTime: '2001-09-01',
      },
    ]);
    expect(entriesOf(bundle, '10160-0')).toMatchObject([
      {
        resourceType: 'MedicationStatement',
        status: 'active',
        medicationCodeableConcept: { text: 'Ramipril 5 mg' },
        effectivePeriod: { start: '2020-01-15' },
        dosage: [{ text: '1 comprimé, le matin' }],
      },
    ]);
    expect(entriesOf(bundle, '47519-4')).toMatchObject([
      {
        resourceType: 'Procedure',
        status: 'completed',
        category: { coding: [{ code: '387713003' }] },
        code: { text: 'Appendicectomie' },
        performedDateTime: '2010-06-20',
        location: { display: 'CHU de Nantes' },
      },
    ]);
    expect(entriesOf(bundle, '10157-6')).toMatchObject([
      {
        resourceType: 'FamilyMemberHistory',
        relationship: { coding: [{ code: 'MTH' }] },
        condition: [{ code: { text: 'Diabète de type 2' }, onsetAge: { value: 55, code: 'a' } }],
      },
    ]);
    expect(entriesOf(bundle, '47420-5')).toMatchObject([
      { resourceType: 'Condition', code: { text: 'disability: sensory — Surdité partielle' } },
    ]);
    expect(entriesOf(bundle, '30954-2')).toMatchObject([
      {
        resourceType: 'Observation',
        code: { coding: [{ code: '882-1' }] },
        valueCodeableConcept: { text: 'O Rh-' },
      },
    ]);
    expect(entriesOf(bundle, '29762-2')).toMatchObject([
      {
        resourceType: 'Observation',
        code: { coding: [{ code: '72166-2' }] },
        valueString: 'Non-fumeur depuis 2018',
      },
    ]);
    const vitals = entriesOf(bundle, '8716-3');
    expect(vitals.map((o) => [o.code.coding[0].code, o.valueQuantity.value]).sort()).toEqual([
      ['29463-7', 72.4],
      ['8867-4', 64],
    ]);
    expect(vitals[0].meta.tag[0]).toMatchObject({ system: AUTHOR_KIND, code: 'patient' });
    const immunization = entriesOf(bundle, '11369-6').find((r) => r.vaccineCode.text === 'Revaxis');
    expect(immunization).toMatchObject({ occurrenceDateTime: '2024-05-02', lotNumber: 'LOT-77' });
    // Contacts and the care team are not mapped (PDF only).
    expect(resources(bundle).some((r) => JSON.stringify(r).includes('Paul Martin'))).toBe(false);
  });
});

describe('Patient/$summary for professionals', () => {
  it('answers the GP with the document Bundle', async () => {
    const res = await summary(gpToken);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toContain('application/fhir+json');
    const bundle = res.json<Loose>();
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'document' });
    expect(entriesOf(bundle, '48765-2')[0].code.text).toBe('Amoxicilline');
  });

  it('answers a stranger 404 with an OperationOutcome and records the denial', async () => {
    const res = await summary(strangerToken);
    expect(res.statusCode).toBe(404);
    expect(res.json<Loose>().resourceType).toBe('OperationOutcome');
    expect(res.body).not.toContain('Amoxicilline');
    const denial = await rt.ctx.db
      .selectFrom('audit_events')
      .select(['entity_type', 'outcome', 'actor_kind'])
      .where('patient_id', '=', patient.id)
      .where('outcome', '=', 'denied')
      .execute();
    expect(denial).toEqual([{ entity_type: 'Synthesis', outcome: 'denied', actor_kind: 'professional' }]);
  });

  it('answers a blocked professional 404, even in the care team', async () => {
    const res = await summary(blockedToken);
    expect(res.statusCode).toBe(404);
    expect(res.json<Loose>().resourceType).toBe('OperationOutcome');
  });

  it('refuses a missing identifier with an OperationOutcome pointing at it', async () => {
    const res = await rt.app.inject({
      method: 'GET',
      url: '/fhir/R4/Patient/$summary',
      headers: { authorization: `Bearer ${gpToken}` },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<Loose>().issue[0].expression).toEqual(['identifier']);
  });
});
