import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as harness from '../../test/harness.ts';
import {
  census,
  createFhirWorld,
  fhir,
  issueOf,
  iti105Resource,
  makePdf,
  type FhirWorld,
  type Loose,
} from './fhir.test-support.ts';

let w: FhirWorld;
beforeAll(async () => {
  w = await createFhirWorld(harness);
});
afterAll(async () => {
  await w.rt.close();
});

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

describe('CapabilityStatement', () => {
  it('is served without a token and lists exactly the implemented interactions', async () => {
    const res = await fhir(w.rt, { url: 'metadata' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(FHIR_JSON);
    const cs = res.json<Loose>();
    expect(cs).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', kind: 'instance' });
    expect(cs.format).toContain('application/fhir+json');
    expect(cs.implementationGuide[0]).toContain('interop.esante.gouv.fr/ig/fhir/pdsm');
    expect(cs.instantiates.join(' ')).toMatch(
      /PDSm-GestionnaireDePartageDeDocuments.*DocumentRecipient.*DocumentResponder/,
    );
    const rest = cs.rest[0];
    expect(rest.interaction.map((i: Loose) => i.code)).toEqual(['transaction']);
    const byType = Object.fromEntries(
      rest.resource.map((r: Loose) => [r.type, (r.interaction ?? []).map((i: Loose) => i.code)]),
    );
    expect(byType).toEqual({
      DocumentReference: ['read', 'vread', 'search-type', 'create', 'delete'],
      Binary: ['read'],
      AuditEvent: ['search-type'],
      Patient: [],
      List: [],
      Observation: ['read', 'create', 'search-type'],
      Immunization: ['read', 'create', 'search-type'],
    });
    const patient = rest.resource.find((r: Loose) => r.type === 'Patient');
    expect(patient.operation.map((o: Loose) => o.name)).toEqual(['emergency-access', 'summary']);
    const params = rest.resource[0].searchParam.map((p: Loose) => p.name);
    expect(params).toEqual([
      'patient.identifier',
      'status',
      'type',
      'category',
      'date',
      'period',
      'author.identifier',
      'author',
      '_count',
      '_cursor',
    ]);
    expect(rest.resource[0].operation).toBeUndefined();
  });

  it('advertises only routes that exist', async () => {
    const id = crypto.randomUUID();
    const routed = async (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) => {
      const res = await fhir(w.rt, {
        method,
        url,
        token: w.pro.token,
        ...(body === undefined ? {} : { body }),
      });
      return !(res.statusCode === 404 && issueOf(res).diagnostics.startsWith('No route'));
    };
    expect(await routed('GET', `DocumentReference/${id}`)).toBe(true);
    expect(await routed('DELETE', `DocumentReference/${id}`)).toBe(true);
    expect(await routed('GET', 'DocumentReference?patient.identifier=1')).toBe(true);
    expect(await routed('POST', 'DocumentReference', {})).toBe(true);
    for (const type of ['Observation', 'Immunization']) {
      expect(await routed('GET', `${type}/${id}`)).toBe(true);
      expect(await routed('GET', `${type}?patient.identifier=1`)).toBe(true);
      expect(await routed('POST', type, {})).toBe(true);
    }
    expect(await routed('POST', '/fhir/R4', {})).toBe(true);
    expect(await routed('GET', `Binary/${id}`)).toBe(true);
    expect(await routed('GET', 'Patient/$summary?identifier=1')).toBe(true);
    // And nothing more.
    expect(await routed('GET', `List/${id}`)).toBe(false);
    expect(await routed('GET', 'Patient')).toBe(false);
    expect(await routed('POST', 'Binary', {})).toBe(false);
  });
});

describe('authentication', () => {
  it.each([
    ['no token', {}],
    ['garbage token', { authorization: 'Bearer not.a.token' }],
    ['wrong scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
  ])('%s → 401 OperationOutcome on every route, before the body is read', async (_name, headers) => {
    const before = await census(w.rt);
    for (const call of [
      { url: `DocumentReference?patient.identifier=${w.patient.ins.matricule}` },
      { url: `DocumentReference/${crypto.randomUUID()}` },
      { url: `Binary/${crypto.randomUUID()}` },
      { url: 'DocumentReference', body: iti105Resource(w.patient) },
      { url: '/fhir/R4', body: '{"broken json' },
      { url: `DocumentReference/${crypto.randomUUID()}`, method: 'DELETE' as const },
    ]) {
      const res = await fhir(w.rt, { ...call, headers });
      expect(res.statusCode, call.url).toBe(401);
      expect(res.headers['content-type']).toBe(FHIR_JSON);
      expect(res.headers['www-authenticate']).toContain('Bearer');
      expect(issueOf(res).code).toBe('login');
    }
    expect(await census(w.rt)).toEqual(before);
  });
});

describe('request bodies', () => {
  it('accepts application/json as well as application/fhir+json, beyond the 1 MB default of the app', async () => {
    const big = Buffer.concat([makePdf('big'), Buffer.alloc(2 * 1024 * 1024, 0x20)]);
    const res = await fhir(w.rt, {
      url: 'DocumentReference',
      token: w.pro.token,
      body: iti105Resource(w.patient, big),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(201);
  });

  it.each([
    ['malformed JSON', 'application/fhir+json', '{"resourceType": "Bundle",', 400, 'invalid'],
    ['empty body', 'application/fhir+json', '', 400, 'invalid'],
    [
      'prototype poisoning',
      'application/fhir+json',
      '{"resourceType":"Bundle","__proto__":{"x":1}}',
      400,
      'invalid',
    ],
    ['JSON array', 'application/fhir+json', '[]', 400, 'invalid'],
    ['text/plain', 'text/plain', 'hello', 415, 'not-supported'],
    ['XML', 'application/fhir+xml', '<Bundle xmlns="http://hl7.org/fhir"/>', 415, 'not-supported'],
    ['form', 'application/x-www-form-urlencoded', 'a=b', 415, 'not-supported'],
    ['multipart', 'multipart/form-data; boundary=x', '--x--', 415, 'not-supported'],
  ])('%s → %i OperationOutcome, nothing written', async (_name, contentType, payload, status, code) => {
    const before = await census(w.rt);
    for (const url of ['/fhir/R4', 'DocumentReference']) {
      const res = await fhir(w.rt, {
        url,
        token: w.pro.token,
        body: payload,
        headers: { 'content-type': contentType },
      });
      expect(res.statusCode, `${url} ${res.body}`).toBe(status);
      expect(res.headers['content-type']).toBe(FHIR_JSON);
      expect(issueOf(res).code).toBe(code);
    }
    expect(await census(w.rt)).toEqual(before);
  });

  it('refuses a body over 40 MB with 413, nothing written', async () => {
    const dr = iti105Resource(w.patient);
    dr.content[0].attachment.data = 'A'.repeat(40 * 1024 * 1024 + 16);
    const before = await census(w.rt);
    const res = await fhir(w.rt, { url: 'DocumentReference', token: w.pro.token, body: dr });
    expect(res.statusCode).toBe(413);
    expect(issueOf(res).code).toBe('too-long');
    expect(await census(w.rt)).toEqual(before);
  });

  it('leaves the JSON parser of the rest of the app alone', async () => {
    const res = await w.rt.app.inject({
      method: 'POST',
      url: '/api/session',
      payload: { login: 'nobody@test', password: 'x' },
    });
    expect(res.statusCode).not.toBe(415);
  });

  it('answers unknown FHIR routes with a 404 OperationOutcome', async () => {
    const res = await fhir(w.rt, { url: 'MedicationRequest', token: w.pro.token });
    expect(res.statusCode).toBe(404);
    expect(issueOf(res).code).toBe('not-found');
  });
});
