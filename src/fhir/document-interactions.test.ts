import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as harness from '../../test/harness.ts';
import {
  census,
  createFhirWorld,
  fhir,
  issueOf,
  iti105Resource,
  makeCda,
  makePdf,
  sha1,
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

async function publish(dr: Loose, token = w.pro.token) {
  return fhir(w.rt, { url: 'DocumentReference', token, body: dr });
}

describe('ITI-105 simplified publish', () => {
  it('stores the adapted ANS example, answers 201 with Location, and 200 with the same resource on replay', async () => {
    const pdf = makePdf('iti-105');
    const dr = iti105Resource(w.patient, pdf);
    const before = await census(w.rt);
    const res = await publish(dr);
    expect(res.statusCode, res.body).toBe(201);
    const created = res.json<Loose>();
    expect(res.headers.location).toBe(
      `${w.rt.config.baseUrl}/fhir/R4/DocumentReference/${created.id}/_history/1`,
    );
    // The Location resolves (vread of version 1) to the same resource; other versions do not exist.
    const path = String(res.headers.location).replace(w.rt.config.baseUrl + '/fhir/R4/', '');
    const vread = await fhir(w.rt, { url: path, token: w.pro.token });
    expect(vread.statusCode).toBe(200);
    expect(vread.json<Loose>().id).toBe(created.id);
    expect((await fhir(w.rt, { url: path.replace(/1$/, '2'), token: w.pro.token })).statusCode).toBe(404);
    expect(created).toMatchObject({
      resourceType: 'DocumentReference',
      status: 'current',
      masterIdentifier: { value: dr.masterIdentifier.value },
      type: { coding: [{ system: 'http://loinc.org', code: '11488-4' }] },
    });
    expect(created.content[0].attachment).toMatchObject({
      size: pdf.length,
      hash: sha1(pdf),
      contentType: 'application/pdf',
    });
    expect(await census(w.rt)).toMatchObject({ documents: before.documents + 1, blobs: before.blobs + 1 });

    const again = await publish(dr);
    expect(again.statusCode).toBe(200);
    expect(again.headers.location).toBeUndefined();
    expect(again.json()).toEqual(created);
    expect(await census(w.rt)).toMatchObject({ documents: before.documents + 1, blobs: before.blobs + 1 });
  });

  it('takes a CDA about the patient', async () => {
    const res = await publish(iti105Resource(w.patient, makeCda(w.patient.ins), 'application/xml'));
    expect(res.statusCode, res.body).toBe(201);
  });

  it.each<[string, (dr: Loose) => void, number, string]>([
    [
      'content by url',
      (dr) => Object.assign(dr.content[0].attachment, { data: undefined, url: 'Binary/1' }),
      400,
      'DocumentReference.content[0].attachment.url',
    ],
    [
      'CDA for another patient',
      (dr) =>
        Object.assign(dr.content[0].attachment, {
          contentType: 'application/xml',
          data: makeCda({ oid: '1.2.250.1.213.1.4.8', matricule: '279035121518989' }).toString('base64'),
        }),
      400,
      'DocumentReference.subject',
    ],
    [
      'declared XML, PDF sent',
      (dr) => void (dr.content[0].attachment.contentType = 'application/xml'),
      400,
      'DocumentReference.content[0].attachment.contentType',
    ],
    [
      'unsupported media type',
      (dr) => void (dr.content[0].attachment.contentType = 'application/zip'),
      415,
      'DocumentReference.content[0].attachment.contentType',
    ],
  ])('refuses %s and writes nothing', async (_name, change, status, expression) => {
    const dr = iti105Resource(w.patient);
    change(dr);
    const before = await census(w.rt);
    const res = await publish(JSON.parse(JSON.stringify(dr)));
    expect(res.statusCode, res.body).toBe(status);
    expect(issueOf(res).expression).toEqual([expression]);
    expect(await census(w.rt)).toEqual(before);
  });
});

describe('read, retrieve, replace, delete', () => {
  let id = '';
  const pdf = makePdf('to be read');
  beforeAll(async () => {
    const res = await publish(iti105Resource(w.patient, pdf));
    id = res.json<Loose>().id;
  });

  it('reads a DocumentReference; unknown or malformed ids are 404', async () => {
    const res = await fhir(w.rt, { url: `DocumentReference/${id}`, token: w.pro.token });
    expect(res.statusCode).toBe(200);
    expect(res.json<Loose>().id).toBe(id);
    for (const bad of [crypto.randomUUID(), 'not-an-id']) {
      const miss = await fhir(w.rt, { url: `DocumentReference/${bad}`, token: w.pro.token });
      expect(miss.statusCode).toBe(404);
      expect(issueOf(miss).code).toBe('not-found');
    }
  });

  it('retrieves the exact bytes (ITI-68), or a Binary resource when asked for FHIR JSON', async () => {
    const raw = await fhir(w.rt, { url: `Binary/${id}`, token: w.pro.token });
    expect(raw.statusCode).toBe(200);
    expect(raw.headers['content-type']).toBe('application/pdf');
    expect(raw.headers['content-disposition']).toBe('attachment');
    expect(raw.rawPayload.equals(pdf)).toBe(true);
    const json = await fhir(w.rt, {
      url: `Binary/${id}`,
      token: w.pro.token,
      headers: { accept: 'application/fhir+json' },
    });
    expect(json.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    const binary = json.json<Loose>();
    expect(binary).toMatchObject({ resourceType: 'Binary', id, contentType: 'application/pdf' });
    expect(Buffer.from(binary.data, 'base64').equals(pdf)).toBe(true);
  });

  it('hides the document from another professional (read, Binary, delete: 404)', async () => {
    for (const call of [
      { url: `DocumentReference/${id}` },
      { url: `Binary/${id}` },
      { url: `DocumentReference/${id}`, method: 'DELETE' as const },
    ]) {
      const res = await fhir(w.rt, { ...call, token: w.other.token });
      expect(res.statusCode).toBe(404);
    }
    expect((await fhir(w.rt, { url: `DocumentReference/${id}`, token: w.pro.token })).statusCode).toBe(200);
  });

  it('replaces a document: the old one becomes superseded, the new one points at it', async () => {
    const old = (await publish(iti105Resource(w.patient))).json<Loose>();
    const next = iti105Resource(w.patient, makePdf('v2'));
    next.relatesTo = [{ code: 'replaces', target: { reference: `DocumentReference/${old.id}` } }];
    const res = await publish(next);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json<Loose>().relatesTo[0].target.reference).toBe(`DocumentReference/${old.id}`);
    const reread = (
      await fhir(w.rt, { url: `DocumentReference/${old.id}`, token: w.pro.token })
    ).json<Loose>();
    expect(reread.status).toBe('superseded');

    const third = iti105Resource(w.patient, makePdf('v3'));
    third.relatesTo = [{ code: 'replaces', target: { reference: `DocumentReference/${old.id}` } }];
    const before = await census(w.rt);
    const twice = await publish(third);
    expect(twice.statusCode).toBe(409);
    expect(await census(w.rt)).toEqual(before);
  });

  it("does not let another professional replace the author's document", async () => {
    const next = iti105Resource(w.patient, makePdf('hijack'));
    next.relatesTo = [{ code: 'replaces', target: { reference: `DocumentReference/${id}` } }];
    const before = await census(w.rt);
    const res = await publish(next, w.other.token);
    expect(res.statusCode).toBe(404);
    expect(await census(w.rt)).toEqual(before);
  });

  it('deletes for the author only (204, then 404)', async () => {
    const doomed = (await publish(iti105Resource(w.patient))).json<Loose>().id as string;
    const before = await census(w.rt);
    const denied = await fhir(w.rt, {
      url: `DocumentReference/${doomed}`,
      method: 'DELETE',
      token: w.other.token,
    });
    expect(denied.statusCode).toBe(404);
    expect(await census(w.rt)).toEqual(before);
    const res = await fhir(w.rt, {
      url: `DocumentReference/${doomed}`,
      method: 'DELETE',
      token: w.pro.token,
    });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await census(w.rt)).documents).toBe(before.documents - 1);
    expect((await fhir(w.rt, { url: `DocumentReference/${doomed}`, token: w.pro.token })).statusCode).toBe(
      404,
    );
    expect((await fhir(w.rt, { url: `Binary/${doomed}`, token: w.pro.token })).statusCode).toBe(404);
  });
});
