import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as harness from '../../test/harness.ts';
import { AppError } from '../errors.ts';
import type { Clock } from '../platform/clock.ts';
import {
  createFhirWorld,
  fhir,
  issueOf,
  iti105Resource,
  makePdf,
  type FhirWorld,
  type Loose,
} from './fhir.test-support.ts';
import { dateRange, parseDocumentSearch, type RawQuery } from './search-params.ts';

const { NIR_OID, tokenFor } = harness;
const INS = '279035121518989';
const PATIENT = `urn:oid:${NIR_OID}|${INS}`;

describe('dateRange', () => {
  it.each([
    ['2024', '2024-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
    ['2024-02', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    ['2024-12-31', '2024-12-31T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
    ['2024-01-15T10:30', '2024-01-15T10:30:00.000Z', '2024-01-15T10:31:00.000Z'],
    ['2024-01-15T10:30:05+01:00', '2024-01-15T09:30:05.000Z', '2024-01-15T09:30:06.000Z'],
    ['2024-01-15T10:30:05 01:00', '2024-01-15T09:30:05.000Z', '2024-01-15T09:30:06.000Z'],
    ['2024-01-15T10:30:05.250Z', '2024-01-15T10:30:05.250Z', '2024-01-15T10:30:05.251Z'],
  ])('%s → [%s, %s)', (value, start, end) => {
    const r = dateRange(value, 'date');
    expect([r.start.toISOString(), r.end.toISOString()]).toEqual([start, end]);
  });

  it.each(['2024-13', '2024-02-30', '15/01/2024', '2024-01-15T25:00', ''])('refuses %j', (value) => {
    expect(() => dateRange(value, 'date')).toThrow(AppError);
  });
});

describe('parseDocumentSearch', () => {
  const parse = (q: RawQuery) => parseDocumentSearch(q, { testOids: [] });

  it('reads the patient with or without system', () => {
    expect(parse({ 'patient.identifier': PATIENT }).patient).toEqual({ oid: NIR_OID, matricule: INS });
    expect(parse({ 'patient.identifier': INS }).patient).toEqual({ oid: NIR_OID, matricule: INS });
  });

  it('maps each parameter onto the service query', () => {
    const s = parse({
      'patient.identifier': PATIENT,
      status: 'current,superseded',
      type: 'urn:oid:2.16.840.1.113883.6.1|11488-4,11502-2',
      category: 'https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument|10,11',
      date: ['ge2024-01-01', 'lt2024-02-01'],
      period: 'gt2023-12',
      'author.identifier': 'urn:oid:1.2.250.1.71.4.2.1|810005173140,10101201234',
      author: '810005173140',
      _count: '500',
      _cursor: 'abc_-1',
      _format: 'json',
    });
    expect(s.query).toEqual({
      limit: 100,
      status: ['current', 'superseded'],
      type: [{ system: 'http://loinc.org', code: '11488-4' }, { code: '11502-2' }],
      classCode: ['10', '11'],
      createdFrom: new Date('2024-01-01T00:00:00Z'),
      createdTo: new Date('2024-02-01T00:00:00Z'),
      dateFrom: new Date('2024-01-01T00:00:00Z'),
      cursor: 'abc_-1',
    });
    expect(s.authorRpps).toEqual(['10005173140']);
    expect(s.empty).toBe(false);
    expect(s.params.some(([k]) => k === '_cursor')).toBe(false);
  });

  it('combines date prefixes into one interval', () => {
    expect(parse({ 'patient.identifier': INS, date: 'eq2024-03' }).query).toMatchObject({
      createdFrom: new Date('2024-03-01T00:00:00Z'),
      createdTo: new Date('2024-04-01T00:00:00Z'),
    });
    expect(parse({ 'patient.identifier': INS, date: 'le2024-03-10' }).query.createdTo).toEqual(
      new Date('2024-03-11T00:00:00Z'),
    );
    expect(parse({ 'patient.identifier': INS, date: 'lt2024-03-10' }).query.createdTo).toEqual(
      new Date('2024-03-10T00:00:00Z'),
    );
  });

  it('marks a search that cannot match', () => {
    expect(parse({ 'patient.identifier': INS, status: 'entered-in-error' }).empty).toBe(true);
  });

  it.each<[string, RawQuery, string]>([
    ['no patient', { status: 'current' }, 'patient.identifier'],
    ['unknown parameter', { 'patient.identifier': INS, subject: 'x' }, 'subject'],
    ['modifier', { 'patient.identifier': INS, 'type:not': '1' }, 'type:not'],
    ['two patients', { 'patient.identifier': `${INS},${INS}` }, 'patient.identifier'],
    ['non-INS system', { 'patient.identifier': `urn:oid:1.2.3|${INS}` }, 'patient.identifier'],
    ['unknown status', { 'patient.identifier': INS, status: 'draft' }, 'status'],
    ['repeated token', { 'patient.identifier': INS, type: ['a', 'b'] }, 'type'],
    ['unsupported prefix', { 'patient.identifier': INS, date: 'sa2024' }, 'date'],
    ['bad date', { 'patient.identifier': INS, period: '2024-1-1' }, 'period'],
    ['category system', { 'patient.identifier': INS, category: 'http://loinc.org|10' }, 'category'],
    [
      'author system',
      { 'patient.identifier': INS, 'author.identifier': 'urn:oid:1.2.3|810005173140' },
      'author.identifier',
    ],
    ['author not RPPS', { 'patient.identifier': INS, author: 'Practitioner/12' }, 'author'],
    ['_count zero', { 'patient.identifier': INS, _count: '0' }, '_count'],
    ['_count text', { 'patient.identifier': INS, _count: 'ten' }, '_count'],
    ['bad cursor', { 'patient.identifier': INS, _cursor: '../x' }, '_cursor'],
    ['xml', { 'patient.identifier': INS, _format: 'xml' }, '_format'],
  ])('refuses %s', (_name, query, field) => {
    try {
      parse(query);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).field).toBe(field);
    }
  });
});

// ---------------------------------------------------------------- over HTTP

let w: FhirWorld;
const ids: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
const T0 = new Date('2026-03-10T10:00:00Z');
const T1 = new Date('2026-03-12T10:00:00Z');

async function publish(token: string, changes: (dr: Loose) => void): Promise<string> {
  const dr = iti105Resource(w.patient, makePdf('search'));
  changes(dr);
  const res = await fhir(w.rt, { url: 'DocumentReference', token, body: dr });
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json<Loose>().id as string;
}

beforeAll(async () => {
  w = await createFhirWorld(harness, { clock: T0 });
  const clock = w.rt.clock as Clock & { set(d: Date): void };
  ids.a = await publish(w.pro.token, (dr) => {
    dr.context = { period: { start: '2024-01-15' } };
  });
  ids.b = await publish(w.pro.token, (dr) => {
    dr.type.coding = [{ system: 'http://loinc.org', code: '11502-2' }];
    dr.category = [
      {
        coding: [
          {
            system: 'https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument',
            code: '10',
          },
        ],
      },
    ];
    dr.context = { period: { start: '2025-06-01T09:00:00+02:00' } };
  });
  clock.set(T1);
  const token = await tokenFor(w.rt.app, w.pro);
  w.pro.token = token;
  ids.c = await publish(token, (dr) => {
    dr.type.coding = [{ system: 'http://loinc.org', code: '18748-4' }];
    dr.context = { period: { start: '2025-09-01' } };
    dr.relatesTo = [{ code: 'replaces', target: { reference: `DocumentReference/${ids.a}` } }];
  });
  w.other.token = await tokenFor(w.rt.app, w.other);
});
afterAll(async () => {
  await w.rt.close();
});

async function search(query: string, token = w.pro.token): Promise<Loose> {
  const res = await fhir(w.rt, {
    url: `DocumentReference?patient.identifier=urn:oid:${NIR_OID}%7C${w.patient.ins.matricule}&${query}`,
    token,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}
const found = (bundle: Loose) =>
  (bundle.entry as Loose[])
    .map((e) => Object.entries(ids).find(([, id]) => id === e.resource.id)?.[0] ?? e.resource.id)
    .sort();

describe('ITI-67 over HTTP', () => {
  it.each([
    ['', ['a', 'b', 'c']],
    ['status=current', ['b', 'c']],
    ['status=superseded', ['a']],
    ['status=entered-in-error', []],
    ['type=http://loinc.org%7C11502-2', ['b']],
    ['type=11488-4,18748-4', ['a', 'c']],
    ['category=10', ['a', 'b']],
    ['category=31', ['c']],
    ['date=2026-03-10', ['a', 'b']],
    ['date=gt2026-03-10', ['c']],
    ['date=ge2026-03-12T10:00:00Z', ['c']],
    ['date=le2026-03-11', ['a', 'b']],
    ['date=lt2026-03-12T10:00:00Z', ['a', 'b']],
    ['date=ge2026-03-01&date=lt2026-04', ['a', 'b', 'c']],
    ['period=2024', ['a']],
    ['period=ge2025-06-01', ['b', 'c']],
    ['period=2025-06-01T07:00:00Z', ['b']],
    ['period=lt2025', ['a']],
  ])('%s', async (query, expected) => {
    expect(found(await search(query))).toEqual(expected);
  });

  it('filters by author RPPS or IDNPS', async () => {
    expect(found(await search(`author.identifier=urn:oid:1.2.250.1.71.4.2.1%7C8${w.pro.rpps}`))).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(found(await search(`author=${w.pro.rpps}`))).toEqual(['a', 'b', 'c']);
    expect(found(await search(`author.identifier=${w.other.rpps}`))).toEqual([]);
  });

  it('answers a searchset with fullUrl, match mode and links', async () => {
    const b = await search('status=current');
    expect(b).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 2 });
    expect(b.link[0].relation).toBe('self');
    expect(b.entry[0].search).toEqual({ mode: 'match' });
    expect(b.entry[0].fullUrl).toBe(`${w.rt.config.baseUrl}/fhir/R4/DocumentReference/${ids.c}`);
    expect(b.entry[0].resource.relatesTo).toEqual([
      { code: 'replaces', target: { reference: `DocumentReference/${ids.a}` } },
    ]);
  });

  it('pages with _count and an opaque cursor, newest first', async () => {
    const first = await search('_count=2');
    expect(first.entry.map((e: Loose) => e.resource.id)).toEqual([ids.c, ids.b]);
    expect(first.total).toBeUndefined();
    const next = (first.link as Loose[]).find((l) => l.relation === 'next')?.url as string;
    expect(next).toContain('_cursor=');
    const second = await fhir(w.rt, { url: next.replace(w.rt.config.baseUrl, ''), token: w.pro.token });
    const page2 = second.json<Loose>();
    expect(page2.entry.map((e: Loose) => e.resource.id)).toEqual([ids.a]);
    expect((page2.link as Loose[]).some((l) => l.relation === 'next')).toBe(false);
  });

  it('supports POST _search with a form body', async () => {
    const res = await w.rt.app.inject({
      method: 'POST',
      url: '/fhir/R4/DocumentReference/_search',
      headers: {
        authorization: `Bearer ${w.pro.token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: new URLSearchParams({
        'patient.identifier': w.patient.ins.matricule,
        status: 'superseded',
      }).toString(),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(found(res.json())).toEqual(['a']);
  });

  it('shows another professional nothing', async () => {
    expect(found(await search('', w.other.token))).toEqual([]);
  });

  it.each<[string, (m: string) => string, number, string | undefined]>([
    ['unknown parameter', (m) => `DocumentReference?patient.identifier=${m}&foo=1`, 400, 'foo'],
    ['missing patient', () => 'DocumentReference?status=current', 400, 'patient.identifier'],
    ['unknown patient', () => `DocumentReference?patient.identifier=${INS}`, 400, 'patient.identifier'],
    ['bad key', () => 'DocumentReference?patient.identifier=279035121518988', 400, 'patient.identifier'],
    ['forged cursor', (m) => `DocumentReference?patient.identifier=${m}&_cursor=Zm9v`, 400, '_cursor'],
  ])('refuses %s', async (_name, url, status, expression) => {
    const res = await fhir(w.rt, { url: url(w.patient.ins.matricule), token: w.pro.token });
    expect(res.statusCode).toBe(status);
    if (expression) expect(issueOf(res).expression).toEqual([expression]);
  });
});
