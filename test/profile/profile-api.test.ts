import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProfessionalActor, SystemActor } from '../../src/modules/access/index.ts';
import { grantRepresentation } from '../../src/modules/access/index.ts';
import { importProfileEntries, readProfile } from '../../src/modules/profile/index.ts';
import { signedInPatient, PASSWORD, type ApiPatient } from '../api/support.ts';
import { createTestRuntime, seedPatient, sessionCookieFor, type TestRuntime } from '../harness.ts';
import { addRule, professional } from '../trust/support.ts';

/** The medical profile over /api: sections, states, history, locks, access. */

const SYSTEM: SystemActor = { kind: 'system', display: 'Carnet' };

/** One valid entry per section, and a change to make to it. */
const SAMPLES: Record<string, { fields: Record<string, unknown>; patch: Record<string, unknown> }> = {
  allergies: {
    fields: {
      substance: { text: 'Pénicilline', coding: { system: 'http://snomed.info/sct', code: '764146007' } },
      kind: 'allergy',
      category: 'medication',
      reaction: 'Urticaire',
      severity: 'moderate',
      criticality: 'high',
    },
    patch: { severity: 'severe' },
  },
  diseases: {
    fields: { condition: { text: 'Asthme' }, since: '2001-05-01' },
    patch: { status: 'remission' },
  },
  treatments: {
    fields: {
      name: { text: 'Ventoline 100 µg' },
      dose: '2 bouffées',
      frequency: 'si besoin',
      since: '2020-01-01',
    },
    patch: { until: '2026-01-01' },
  },
  hospitalisations: {
    fields: {
      kind: 'surgery',
      reason: { text: 'Appendicectomie' },
      date: '1999-07-12',
      place: 'CHU de Nantes',
    },
    patch: { note: 'Sans complication' },
  },
  'family-history': {
    fields: { relationship: 'mother', condition: { text: 'Diabète de type 2' }, ageAtOnset: 55 },
    patch: { ageAtOnset: 52 },
  },
  disabilities: {
    fields: { type: 'motor', rateBand: '50-79', humanHelp: false },
    patch: { humanHelp: true },
  },
  'blood-group': { fields: { abo: 'O', rhesus: 'negative' }, patch: { rhesus: 'positive' } },
  lifestyle: {
    fields: { topic: 'tobacco', description: 'Ancien fumeur', quantity: '10 paquets-années' },
    patch: { note: 'Arrêt en 2015' },
  },
  'advance-directives': {
    fields: { writtenOn: '2025-02-01', summary: 'Pas d’acharnement thérapeutique', keptBy: 'Mon médecin' },
    patch: { keptBy: 'Ma sœur' },
  },
  'organ-donation': { fields: { position: 'consents' }, patch: { note: 'Famille informée' } },
  contacts: {
    fields: {
      role: 'trusted-person',
      name: 'Jeanne Martin',
      relationship: 'sœur',
      phone: '+33 6 12 34 56 78',
    },
    patch: { email: 'jeanne@example.org' },
  },
  'care-team': {
    fields: { name: 'Dr Paul Durand', role: 'médecin traitant', rpps: '10001234567' },
    patch: { phone: '02 40 00 00 00' },
  },
};

let rt: TestRuntime;
let a: ApiPatient;

beforeAll(async () => {
  rt = await createTestRuntime({ clock: new Date('2026-03-01T10:00:00Z') });
  a = await signedInPatient(rt);
});
afterAll(async () => {
  await rt?.close();
});

function call(
  cookie: string,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  return rt.app.inject({
    method,
    url,
    headers: { cookie, ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

interface Entry {
  id: string;
  section: string;
  fields: Record<string, unknown>;
  status: string;
  author: { kind: string; id: string | null; display: string };
  locked: boolean;
}

async function add(cookie: string, section: string, fields: unknown, headers: Record<string, string> = {}) {
  const res = await call(cookie, 'POST', `/api/profile/${section}/entries`, { fields }, headers);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<Entry>();
}

describe('every section', () => {
  it.each(Object.entries(SAMPLES))('%s: add, read, change, history, delete', async (section, sample) => {
    const p = await signedInPatient(rt);
    const entry = await add(p.cookie, section, sample.fields);
    expect(entry).toMatchObject({ section, status: 'current', locked: false });
    expect(entry.author).toMatchObject({ kind: 'patient', id: p.patient.id });
    for (const [k, v] of Object.entries(sample.fields)) expect(entry.fields[k]).toEqual(v);

    const read = await call(p.cookie, 'GET', `/api/profile/${section}`);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ section, state: 'entries', entries: [{ id: entry.id }] });

    const changed = await call(p.cookie, 'PATCH', `/api/profile/entries/${entry.id}`, {
      fields: sample.patch,
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json<Entry>().fields).toMatchObject(sample.patch);

    const del = await call(p.cookie, 'DELETE', `/api/profile/entries/${entry.id}`);
    expect(del.statusCode, del.body).toBe(204);
    const after = await call(p.cookie, 'GET', `/api/profile/${section}`);
    expect(after.json()).toMatchObject({ state: 'unknown', entries: [] });

    const history = await call(p.cookie, 'GET', `/api/profile/entries/${entry.id}/history`);
    expect(history.statusCode).toBe(200);
    const body = history.json<{ entry: Entry; changes: Array<{ change: string; changed: string[] }> }>();
    expect(body.entry.status).toBe('deleted');
    expect(body.changes.map((c) => c.change)).toEqual(['created', 'updated', 'deleted']);
    expect(body.changes[1]?.changed).toEqual(Object.keys(sample.patch));
  });

  it('GET /api/profile lists all twelve sections with their states', async () => {
    const p = await signedInPatient(rt);
    await add(p.cookie, 'allergies', SAMPLES.allergies?.fields);
    await call(p.cookie, 'PUT', '/api/profile/diseases/state', { notConcerned: true });
    const res = await call(p.cookie, 'GET', '/api/profile');
    expect(res.statusCode).toBe(200);
    const sections = res.json<{ sections: Array<{ section: string; state: string; kind: string }> }>()
      .sections;
    expect(sections).toHaveLength(12);
    expect(Object.fromEntries(sections.map((s) => [s.section, s.state]))).toMatchObject({
      allergies: 'entries',
      diseases: 'not_concerned',
      treatments: 'unknown',
    });
    expect(sections.find((s) => s.section === 'blood-group')?.kind).toBe('single');
  });
});

describe('"not concerned"', () => {
  it('is declared on an empty list, cleared by a new entry, refused while entries are live', async () => {
    const p = await signedInPatient(rt);
    const declared = await call(p.cookie, 'PUT', '/api/profile/allergies/state', { notConcerned: true });
    expect(declared.statusCode, declared.body).toBe(200);
    expect(declared.json()).toMatchObject({
      state: 'not_concerned',
      declared: { author: { kind: 'patient' } },
    });

    const entry = await add(p.cookie, 'allergies', { substance: { text: 'Arachide' } });
    const now = await call(p.cookie, 'GET', '/api/profile/allergies');
    expect(now.json()).toMatchObject({ state: 'entries', declared: null });

    const refused = await call(p.cookie, 'PUT', '/api/profile/allergies/state', { notConcerned: true });
    expect(refused.statusCode).toBe(409);
    expect(refused.json<{ error: { message: string } }>().error.message).toMatch(/1 current entry/);

    await call(p.cookie, 'DELETE', `/api/profile/entries/${entry.id}`);
    expect((await call(p.cookie, 'GET', '/api/profile/allergies')).json()).toMatchObject({
      state: 'unknown',
    });
    expect(
      (await call(p.cookie, 'PUT', '/api/profile/allergies/state', { notConcerned: true })).statusCode,
    ).toBe(200);
    const back = await call(p.cookie, 'PUT', '/api/profile/allergies/state', { notConcerned: false });
    expect(back.json()).toMatchObject({ state: 'unknown' });
  });

  it('is refused on a single-value section', async () => {
    const res = await call(a.cookie, 'PUT', '/api/profile/blood-group/state', { notConcerned: true });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'invalid_input', field: 'section' } });
  });
});

describe('single values and advance directives', () => {
  it('a new advance directive replaces the old one, which stays in its history', async () => {
    const p = await signedInPatient(rt);
    const first = await add(p.cookie, 'advance-directives', { writtenOn: '2020-01-01', summary: 'Première' });
    const second = await add(p.cookie, 'advance-directives', { writtenOn: '2025-01-01', summary: 'Seconde' });
    const section = await call(p.cookie, 'GET', '/api/profile/advance-directives');
    expect(section.json<{ entries: Entry[] }>().entries.map((e) => e.id)).toEqual([second.id]);
    const history = await call(p.cookie, 'GET', `/api/profile/entries/${first.id}/history`);
    const body = history.json<{
      entry: Entry & { replacedBy: string };
      changes: Array<{ change: string }>;
    }>();
    expect(body.entry).toMatchObject({ status: 'replaced', replacedBy: second.id });
    expect(body.changes.map((c) => c.change)).toEqual(['created', 'replaced']);
    const edit = await call(p.cookie, 'PATCH', `/api/profile/entries/${first.id}`, {
      fields: { summary: 'x' },
    });
    expect(edit.statusCode).toBe(409);
  });

  it('advance directives are refused for a minor, saying until when', async () => {
    const login = `minor-${Date.now()}@test.carnet`;
    await seedPatient(rt.ctx, { login, password: PASSWORD, birthDate: '2012-06-30' });
    const cookie = await sessionCookieFor(rt.app, login, PASSWORD);
    const res = await call(cookie, 'POST', '/api/profile/advance-directives/entries', {
      fields: { writtenOn: '2026-01-01' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(
      /born 2012-06-30.*minor until 2030-06-30/,
    );
    // Other sections are open to minors.
    expect(
      (
        await call(cookie, 'POST', '/api/profile/blood-group/entries', {
          fields: SAMPLES['blood-group']?.fields,
        })
      ).statusCode,
    ).toBe(201);
  });

  it('blood group keeps one current value', async () => {
    const p = await signedInPatient(rt);
    await add(p.cookie, 'blood-group', { abo: 'A', rhesus: 'positive' });
    await add(p.cookie, 'blood-group', { abo: 'A', rhesus: 'negative' });
    const res = await call(p.cookie, 'GET', '/api/profile/blood-group');
    expect(res.json<{ entries: Entry[] }>().entries.map((e) => e.fields)).toEqual([
      { abo: 'A', rhesus: 'negative' },
    ]);
  });
});

describe('bad input', () => {
  it.each([
    ['allergies', { substance: { text: 'x' }, colour: 'red' }, 'fields.colour', /Unknown field "colour"/],
    ['allergies', { reaction: 'x' }, 'fields.substance', /required/],
    [
      'allergies',
      { substance: { text: 'x', coding: { code: '1' } } },
      'fields.substance.coding.system',
      /required/,
    ],
    ['allergies', { substance: { text: 'x' }, severity: 'terrible' }, 'fields.severity', /severity/],
    ['treatments', { name: { text: 'x' }, since: '2020-13-45' }, 'fields.since', /since/],
    ['blood-group', { abo: 'Z', rhesus: 'positive' }, 'fields.abo', /abo/],
    [
      'family-history',
      { relationship: 'mother', condition: { text: 'x' }, ageAtOnset: -1 },
      'fields.ageAtOnset',
      /ageAtOnset/,
    ],
    ['contacts', { role: 'emergency', name: 'x', email: 'not-mail' }, 'fields.email', /email/],
    ['care-team', { name: 'x', role: 'y', rpps: '123' }, 'fields.rpps', /RPPS/],
    ['disabilities', { type: 'motor', rateBand: '50-79' }, 'fields.humanHelp', /required/],
  ])('%s %j → 400 on %s', async (section, fields, field, message) => {
    const res = await call(a.cookie, 'POST', `/api/profile/${section}/entries`, { fields });
    expect(res.statusCode, res.body).toBe(400);
    const error = res.json<{ error: { code: string; field: string; message: string } }>().error;
    expect(error).toMatchObject({ code: 'invalid_input', field });
    expect(error.message).toMatch(message);
  });

  it('an unknown section, an unknown body member, a bad PATCH', async () => {
    const unknown = await call(a.cookie, 'POST', '/api/profile/horoscope/entries', { fields: {} });
    expect(unknown.json()).toMatchObject({ error: { code: 'invalid_input', field: 'section' } });
    const extra = await call(a.cookie, 'POST', '/api/profile/allergies/entries', { fields: {}, other: 1 });
    expect(extra.statusCode).toBe(400);
    const entry = await add(a.cookie, 'allergies', { substance: { text: 'Latex' } });
    const bad = await call(a.cookie, 'PATCH', `/api/profile/entries/${entry.id}`, {
      fields: { substance: null },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { field: 'fields.substance' } });
    const unchanged = await call(a.cookie, 'GET', `/api/profile/entries/${entry.id}/history`);
    expect(unchanged.json<{ changes: unknown[] }>().changes).toHaveLength(1);
  });
});

describe('idempotency', () => {
  it('a re-sent POST with the same Idempotency-Key returns the same entry', async () => {
    const p = await signedInPatient(rt);
    const key = { 'idempotency-key': 'key-123' };
    const first = await add(p.cookie, 'lifestyle', { topic: 'sleep', description: '7 h' }, key);
    const again = await add(p.cookie, 'lifestyle', { topic: 'sleep', description: '7 h' }, key);
    expect(again.id).toBe(first.id);
    const list = await call(p.cookie, 'GET', '/api/profile/lifestyle');
    expect(list.json<{ entries: Entry[] }>().entries).toHaveLength(1);
    const other = await call(
      p.cookie,
      'POST',
      '/api/profile/lifestyle/entries',
      { fields: { topic: 'food', description: 'x' } },
      key,
    );
    expect(other.statusCode).toBe(409);
  });
});

describe('provenance and locks', () => {
  it('imported entries are locked for the patient; the import is idempotent', async () => {
    const p = await signedInPatient(rt);
    const entries = [
      {
        section: 'allergies',
        fields: { substance: { text: 'Arachide' } },
        externalId: 'urn:uuid:1',
        source: 'synthea',
      },
      {
        section: 'diseases',
        fields: { condition: { text: 'Hypertension' } },
        externalId: 'urn:uuid:2',
        source: 'synthea',
      },
      {
        section: 'treatments',
        fields: { name: { text: 'x' }, colour: 1 },
        externalId: 'urn:uuid:3',
        source: 'synthea',
      },
      { section: 'astrology', fields: {}, externalId: 'urn:uuid:4', source: 'synthea' },
    ];
    const first = await importProfileEntries(rt.ctx, SYSTEM, p.patient.id, entries);
    expect(first.created).toHaveLength(2);
    expect(first.skipped).toEqual([
      expect.objectContaining({ index: 2, field: 'entries[2].fields.colour' }),
      expect.objectContaining({ index: 3, field: 'entries[3].section' }),
    ]);
    const second = await importProfileEntries(rt.ctx, SYSTEM, p.patient.id, entries);
    expect(second.created).toEqual([]);
    expect(second.unchanged.map((u) => u.id)).toEqual(first.created.map((c) => c.id));

    const allergies = await call(p.cookie, 'GET', '/api/profile/allergies');
    const [imported] = allergies.json<{ entries: Entry[] }>().entries;
    expect(imported).toMatchObject({
      locked: true,
      author: { kind: 'import' },
      source: 'synthea',
      externalId: 'urn:uuid:1',
    });
    const edit = await call(p.cookie, 'PATCH', `/api/profile/entries/${imported?.id}`, {
      fields: { reaction: 'x' },
    });
    expect(edit.statusCode).toBe(403);
    expect(edit.json<{ error: { message: string } }>().error.message).toMatch(
      /Imported entries cannot be changed/,
    );
    expect((await call(p.cookie, 'DELETE', `/api/profile/entries/${imported?.id}`)).statusCode).toBe(403);
  });

  it('a locked single value cannot be replaced by the patient', async () => {
    const p = await signedInPatient(rt);
    await importProfileEntries(rt.ctx, SYSTEM, p.patient.id, [
      {
        section: 'blood-group',
        fields: { abo: 'B', rhesus: 'positive' },
        externalId: 'lab-1',
        source: 'lab',
      },
    ]);
    const res = await call(p.cookie, 'POST', '/api/profile/blood-group/entries', {
      fields: { abo: 'O', rhesus: 'positive' },
    });
    expect(res.statusCode).toBe(403);
  });
});

describe('who may see the profile', () => {
  it('a caregiver without the profile scope gets 404; with it, reads and writes as representative', async () => {
    const helper = await signedInPatient(rt);
    await grantRepresentation(rt.ctx, SYSTEM, a.patient.id, {
      personId: helper.patient.id,
      role: 'caregiver',
      scopes: ['documents'],
    });
    const inA = { 'x-carnet-profile': a.patient.id };
    expect((await call(helper.cookie, 'GET', '/api/profile', undefined, inA)).statusCode).toBe(404);
    const denied = await call(
      helper.cookie,
      'POST',
      '/api/profile/allergies/entries',
      { fields: { substance: { text: 'x' } } },
      inA,
    );
    expect(denied.statusCode).toBe(404);

    const helper2 = await signedInPatient(rt);
    await grantRepresentation(rt.ctx, SYSTEM, a.patient.id, {
      personId: helper2.patient.id,
      role: 'caregiver',
      scopes: ['profile'],
    });
    const entry = await add(helper2.cookie, 'contacts', { role: 'help', name: 'Aide à domicile' }, inA);
    expect(entry.author).toMatchObject({ kind: 'representative', id: helper2.patient.id });
    expect((await call(helper2.cookie, 'GET', '/api/profile', undefined, inA)).statusCode).toBe(200);
  });

  it("another patient cannot reach A's entries by id", async () => {
    const entry = await add(a.cookie, 'treatments', { name: { text: 'Secret' } });
    const b = await signedInPatient(rt);
    for (const [method, url, payload] of [
      ['GET', `/api/profile/entries/${entry.id}/history`, undefined],
      ['PATCH', `/api/profile/entries/${entry.id}`, { fields: { dose: 'x' } }],
      ['DELETE', `/api/profile/entries/${entry.id}`, undefined],
    ] as const) {
      const res = await call(b.cookie, method, url, payload);
      expect(res.statusCode).toBe(404);
      expect(res.body).not.toContain('Secret');
    }
  });

  it('a professional has no /api access, and reads the profile through the gate only with a care relationship', async () => {
    const gp = await professional(rt, '10');
    const res = await rt.app.inject({
      method: 'GET',
      url: '/api/profile',
      headers: { authorization: `Bearer ${gp.token}` },
    });
    expect(res.statusCode).toBe(401);
    const actor: ProfessionalActor = {
      kind: 'professional',
      professionalId: gp.id,
      rpps: gp.rpps,
      professionCode: gp.professionCode,
      specialtyCode: null,
      display: 'Dr GP',
      organizationId: gp.organizationId,
      clientId: gp.clientId,
    };
    await expect(readProfile(rt.ctx, actor, a.patient.id)).rejects.toMatchObject({ code: 'not_found' });
    await addRule(rt, a.cookie, { kind: 'role', rpps: gp.rpps, role: 'gp' });
    const sections = await readProfile(rt.ctx, actor, a.patient.id);
    expect(sections.find((s) => s.section === 'treatments')?.entries.length).toBeGreaterThan(0);
  });
});
