import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as harness from '../../test/harness.ts';
import {
  b64,
  census,
  createFhirWorld,
  fhir,
  issueOf,
  iti65Bundle,
  makeCda,
  makePdf,
  sha1,
  type FhirWorld,
  type Loose,
} from './fhir.test-support.ts';

const { makeMatricule, NIR_OID, seedPatient } = harness;

let w: FhirWorld;
beforeAll(async () => {
  w = await createFhirWorld(harness);
});
afterAll(async () => {
  await w.rt.close();
});

const post = (body: unknown, token = w.pro.token) => fhir(w.rt, { url: '/fhir/R4', token, body });

describe('ITI-65 provide document bundle', () => {
  it('stores the adapted PDSm example (CDA + PDF) and answers a transaction-response in request order', async () => {
    const cda = makeCda(w.patient.ins);
    const pdf = makePdf('biologie');
    const bundle = iti65Bundle(w.patient, { cda, pdf });
    const before = await census(w.rt);

    const res = await post(bundle);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    const out = res.json<Loose>();
    expect(out.resourceType).toBe('Bundle');
    expect(out.type).toBe('transaction-response');
    expect(out.entry).toHaveLength(5);
    const locations: string[] = out.entry.map((e: Loose) => e.response.location);
    expect(out.entry.map((e: Loose) => e.response.status)).toEqual(Array(5).fill('201 Created'));
    expect(locations[0]).toMatch(/^List\/[0-9a-f-]{36}$/);
    expect(locations[1]).toMatch(/^DocumentReference\/[0-9a-f-]{36}\/_history\/1$/);
    expect(locations[3]).toMatch(/^DocumentReference\/[0-9a-f-]{36}\/_history\/1$/);
    const cdaId = (locations[1] as string).split('/')[1];
    const pdfId = (locations[3] as string).split('/')[1];
    expect(locations[2]).toBe(`Binary/${cdaId}`);
    expect(locations[4]).toBe(`Binary/${pdfId}`);
    // The example names RPPS 99700218896 as author: kept, with a warning, not refused.
    expect(JSON.stringify(out.entry[0].response.outcome)).toContain('99700218896');
    expect(await census(w.rt)).toEqual({
      documents: before.documents + 2,
      submissionSets: before.submissionSets + 1,
      blobs: before.blobs + 2,
    });

    const binary = await fhir(w.rt, { url: `Binary/${cdaId}`, token: w.pro.token });
    expect(binary.statusCode).toBe(200);
    expect(binary.headers['content-type']).toBe('application/xml');
    expect(binary.rawPayload.equals(cda)).toBe(true);
    const pdfBinary = await fhir(w.rt, { url: `Binary/${pdfId}`, token: w.pro.token });
    expect(pdfBinary.rawPayload.equals(pdf)).toBe(true);

    const read = await fhir(w.rt, { url: `DocumentReference/${cdaId}`, token: w.pro.token });
    const dr = read.json<Loose>();
    expect(dr.masterIdentifier.value).toBe(bundle.entry[1].resource.masterIdentifier.value);
    expect(dr.category[0].coding[0].code).toBe('11');
    expect(dr.type.coding[0]).toMatchObject({ system: 'http://loinc.org', code: '11488-4' });
    expect(dr.content[0].attachment).toMatchObject({
      contentType: 'application/xml',
      size: cda.length,
      hash: sha1(cda),
      title: 'Compte rendu de consultation',
    });
    expect(dr.content[0].attachment.url).toBe(`${w.rt.config.baseUrl}/fhir/R4/Binary/${cdaId}`);
    expect(dr.context.facilityType.coding[0].code).toBe('22232009');
    expect(dr.context.practiceSetting.coding[0].code).toBe('394802001');
    expect(new Date(dr.context.period.start).toISOString()).toBe('2026-06-12T08:00:00.000Z');
    expect(dr.author[0].identifier).toEqual({
      system: 'urn:oid:1.2.250.1.71.4.2.1',
      value: `8${w.pro.rpps}`,
    });
    expect(dr.author[1].identifier.value).toBe('899700218896');
    expect(dr.authenticator.identifier.value).toBe('899700218896');
    expect(dr.subject.identifier).toEqual({ system: `urn:oid:${NIR_OID}`, value: w.patient.ins.matricule });
    expect(dr.securityLabel[0].coding[0].code).toBe('N');
  });

  it('creates nothing when the same bundle is sent again, and answers 200 OK for every entry', async () => {
    const bundle = iti65Bundle(w.patient);
    const first = await post(bundle);
    expect(first.statusCode, first.body).toBe(200);
    const before = await census(w.rt);
    const again = await post(bundle);
    expect(again.statusCode, again.body).toBe(200);
    const a = first.json<Loose>();
    const b = again.json<Loose>();
    expect(b.entry.map((e: Loose) => e.response.status)).toEqual(Array(5).fill('200 OK'));
    expect(b.entry.map((e: Loose) => e.response.location)).toEqual(
      a.entry.map((e: Loose) => e.response.location),
    );
    expect(await census(w.rt)).toEqual(before);
  });

  it('accepts content inline in attachment.data', async () => {
    const bundle = iti65Bundle(w.patient);
    const pdf = makePdf('inline');
    const doc = bundle.entry[3].resource;
    delete doc.content[0].attachment.url;
    Object.assign(doc.content[0].attachment, { data: b64(pdf), size: pdf.length, hash: sha1(pdf) });
    bundle.entry.splice(4, 1);
    const res = await post(bundle);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<Loose>().entry).toHaveLength(4);
  });
});

const XXE = readFileSync(
  fileURLToPath(new URL('../../test/fixtures/cda/xxe-external-entity.xml', import.meta.url)),
);

/** Each case breaks the adapted example one way; the answer must be a 4xx naming the element, and nothing stored. */
const BAD_BUNDLES: Array<{
  name: string;
  status: number;
  expression?: string;
  change: (b: Loose) => void | Promise<void>;
}> = [
  {
    name: 'not a transaction',
    status: 400,
    expression: 'Bundle.type',
    change: (b) => void (b.type = 'batch'),
  },
  {
    name: 'entry not POSTed',
    status: 400,
    expression: 'Bundle.entry[2].request.method',
    change: (b) => void (b.entry[2].request.method = 'PUT'),
  },
  {
    name: 'a Patient entry',
    status: 400,
    expression: 'Bundle.entry[4].resource.resourceType',
    change: (b) => void (b.entry[4].resource = { resourceType: 'Patient' }),
  },
  {
    name: 'missing masterIdentifier',
    status: 400,
    expression: 'Bundle.entry[1].resource.masterIdentifier',
    change: (b) => void delete b.entry[1].resource.masterIdentifier,
  },
  {
    name: 'status not current',
    status: 400,
    expression: 'Bundle.entry[1].resource.status',
    change: (b) => void (b.entry[1].resource.status = 'superseded'),
  },
  {
    name: 'no type',
    status: 400,
    expression: 'Bundle.entry[3].resource.type',
    change: (b) => void delete b.entry[3].resource.type,
  },
  {
    name: 'no contentType',
    status: 400,
    expression: 'Bundle.entry[1].resource.content[0].attachment.contentType',
    change: (b) => void delete b.entry[1].resource.content[0].attachment.contentType,
  },
  {
    name: 'Binary reference missing',
    status: 400,
    expression: 'Bundle.entry[1].resource.content[0].attachment.url',
    change: (b) =>
      void (b.entry[1].resource.content[0].attachment.url = 'urn:uuid:aaaaaaaa-0000-0000-0000-00000000dead'),
  },
  {
    name: 'Binary not referenced',
    status: 400,
    expression: 'Bundle.entry[5].fullUrl',
    change: (b) => void b.entry.push({ ...structuredClone(b.entry[4]), fullUrl: 'urn:uuid:extra' }),
  },
  {
    name: 'invalid base64',
    status: 400,
    expression: 'Bundle.entry[2].resource.data',
    change: (b) => void (b.entry[2].resource.data = 'PD94b*&^%bWwg'),
  },
  {
    name: 'wrong hash',
    status: 400,
    expression: 'Bundle.entry[3].resource.content[0].attachment.hash',
    change: (b) => void (b.entry[3].resource.content[0].attachment.hash = sha1(Buffer.from('x'))),
  },
  {
    name: 'wrong size',
    status: 400,
    expression: 'Bundle.entry[3].resource.content[0].attachment.size',
    change: (b) => void (b.entry[3].resource.content[0].attachment.size = 1),
  },
  {
    name: 'List without uniqueId',
    status: 400,
    expression: 'Bundle.entry[0].resource.identifier',
    change: (b) => void delete b.entry[0].resource.identifier,
  },
  {
    name: 'List not listing a document',
    status: 400,
    expression: 'Bundle.entry[3].fullUrl',
    change: (b) => void b.entry[0].resource.entry.pop(),
  },
  {
    name: 'category outside TRE_A03',
    status: 400,
    expression: 'Bundle.entry[1].resource.category[0].coding[0].code',
    change: (b) => void (b.entry[1].resource.category[0].coding[0].code = '99'),
  },
  {
    name: 'unknown patient',
    status: 400,
    expression: 'Bundle.entry[0].resource.subject',
    change: (b) => {
      const other = makeMatricule();
      b.entry[0].resource.subject.reference = `Patient?identifier=urn:oid:${NIR_OID}|${other}`;
    },
  },
  {
    name: 'INS with a wrong key',
    status: 400,
    expression: 'Bundle.entry[0].resource.subject',
    change: (b) => {
      const m: string = w.patient.ins.matricule;
      const wrong = `${m.slice(0, 13)}${String((Number(m.slice(13)) % 97) + 1).padStart(2, '0')}`;
      b.entry[0].resource.subject.reference = `Patient?identifier=urn:oid:${NIR_OID}|${wrong}`;
    },
  },
  {
    name: 'subject not an INS',
    status: 400,
    expression: 'Bundle.entry[1].resource.subject.reference',
    change: (b) => void (b.entry[1].resource.subject = { reference: 'Patient/123' }),
  },
  {
    name: 'a document for another patient',
    status: 400,
    expression: 'Bundle.entry[3].resource.subject',
    change: async (b) => {
      const someone = await seedPatient(w.rt.ctx);
      b.entry[3].resource.subject = {
        identifier: { system: `urn:oid:${NIR_OID}`, value: someone.ins.matricule },
      };
    },
  },
  {
    name: 'CDA about another patient',
    status: 400,
    expression: 'Bundle.entry[1].resource.subject',
    change: (b) => {
      const cda = makeCda({ oid: NIR_OID, matricule: makeMatricule() });
      b.entry[2].resource.data = b64(cda);
      Object.assign(b.entry[1].resource.content[0].attachment, { size: cda.length, hash: sha1(cda) });
    },
  },
  {
    name: 'CDA with a DOCTYPE and an external entity',
    status: 400,
    expression: 'Bundle.entry[2].resource.data',
    change: (b) => {
      b.entry[2].resource.data = b64(XXE);
      Object.assign(b.entry[1].resource.content[0].attachment, { size: XXE.length, hash: sha1(XXE) });
    },
  },
  {
    name: 'PDF declared, text sent',
    status: 400,
    expression: 'Bundle.entry[3].resource.content[0].attachment.contentType',
    change: (b) => {
      const txt = Buffer.from('just text');
      b.entry[4].resource.data = b64(txt);
      Object.assign(b.entry[3].resource.content[0].attachment, { size: txt.length, hash: sha1(txt) });
    },
  },
  {
    name: 'replacing an unknown document',
    status: 400,
    expression: 'Bundle.entry[1].resource.relatesTo',
    change: (b) =>
      void (b.entry[1].resource.relatesTo = [
        { code: 'replaces', target: { reference: `DocumentReference/${crypto.randomUUID()}` } },
      ]),
  },
];

describe('ITI-65 refusals write nothing', () => {
  it.each(BAD_BUNDLES)('$name → $status', async ({ status, expression, change }) => {
    const bundle = iti65Bundle(w.patient);
    await change(bundle);
    const before = await census(w.rt);
    const res = await post(bundle);
    expect(res.statusCode, res.body).toBe(status);
    const issue = issueOf(res);
    if (expression) expect(issue.expression, issue.diagnostics).toEqual([expression]);
    expect(await census(w.rt)).toEqual(before);
  });

  it('refuses a masterIdentifier reused with other content (409) and writes nothing', async () => {
    const bundle = iti65Bundle(w.patient);
    expect((await post(bundle)).statusCode).toBe(200);
    const changed = iti65Bundle(w.patient, { tag: crypto.randomUUID() });
    changed.entry[3].resource.masterIdentifier.value = bundle.entry[3].resource.masterIdentifier.value;
    const before = await census(w.rt);
    const res = await post(changed);
    expect(res.statusCode).toBe(409);
    expect(issueOf(res).expression).toEqual(['Bundle.entry[3].resource.masterIdentifier']);
    expect(await census(w.rt)).toEqual(before);
  });
});
