/**
 * Helpers of the FHIR suites (not a test file itself): a runtime with a patient and two
 * professionals, CDA and PDF builders, the ANS PDSm examples adapted to the test identities, and
 * a census of what is stored, so that refused requests can be shown to write nothing.
 *
 * Code under src/ may not import test/, so the suites hand in the project's test harness
 * (`import * as harness from '../../test/harness.ts'`).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Config } from '../config.ts';
import type { Patient } from '../modules/identity/index.ts';
import type { Clock } from '../platform/clock.ts';
import type { Ctx } from '../platform/context.ts';

export interface FhirRuntime {
  app: FastifyInstance;
  ctx: Ctx;
  config: Config;
  clock: Clock;
  close(): Promise<void>;
}

export interface SeededPro {
  id: string;
  rpps: string;
  clientId: string;
  clientSecret: string;
}

/** What the suites need from test/harness.ts. */
export interface FhirHarness {
  createTestRuntime(options?: { clock?: Date }): Promise<FhirRuntime>;
  seedPatient(ctx: Ctx): Promise<Patient>;
  seedProfessional(ctx: Ctx): Promise<SeededPro>;
  tokenFor(app: FastifyInstance, client: { clientId: string; clientSecret: string }): Promise<string>;
}

export type Pro = SeededPro & { token: string };

export interface FhirWorld {
  rt: FhirRuntime;
  patient: Patient;
  pro: Pro;
  other: Pro;
}

export async function createFhirWorld(
  harness: FhirHarness,
  options: { clock?: Date } = {},
): Promise<FhirWorld> {
  const rt = await harness.createTestRuntime(options.clock ? { clock: options.clock } : {});
  const patient = await harness.seedPatient(rt.ctx);
  const pro = await harness.seedProfessional(rt.ctx);
  const other = await harness.seedProfessional(rt.ctx);
  return {
    rt,
    patient,
    pro: { ...pro, token: await harness.tokenFor(rt.app, pro) },
    other: { ...other, token: await harness.tokenFor(rt.app, other) },
  };
}

/** A small but real PDF, different on each call. */
export function makePdf(text = 'Compte rendu'): Buffer {
  const body = `%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n% ${text} ${randomBytes(8).toString('hex')}\ntrailer<</Root 1 0 R>>\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

export const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('base64');
export const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');
export const insRef = (p: Patient): string => `Patient?identifier=urn:oid:${p.ins.oid}|${p.ins.matricule}`;

/** A CDA R2 level 1 (PDF in nonXMLBody) about the given INS. */
export function makeCda(
  ins: { oid: string; matricule: string },
  options: { pdf?: Buffer; title?: string; typeCode?: string } = {},
): Buffer {
  const pdf = options.pdf ?? makePdf('CDA body');
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <id root="1.2.250.1.999.1.1" extension="${randomUUID()}"/>
  <code code="${options.typeCode ?? '11488-4'}" codeSystem="2.16.840.1.113883.6.1" displayName="Note de consultation"/>
  <title>${options.title ?? 'Compte rendu de consultation'}</title>
  <effectiveTime value="20240115103000+0100"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <languageCode code="fr-FR"/>
  <recordTarget><patientRole><id root="${ins.oid}" extension="${ins.matricule}"/>
    <patient><name><given>Camille</given><family>TEST</family></name><birthTime value="19850314"/></patient>
  </patientRole></recordTarget>
  <author><time value="20240115103000+0100"/><assignedAuthor><id root="1.2.250.1.71.4.2.1" extension="810101201234"/></assignedAuthor></author>
  <component><nonXMLBody><text mediaType="application/pdf" representation="B64">${b64(pdf)}</text></nonXMLBody></component>
</ClinicalDocument>
`;
  return Buffer.from(xml, 'utf8');
}

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
/** The INS and IDNPS the ANS examples use. */
const EXAMPLE_MATRICULE = '123456789012345';

export function readFixture(path: string): string {
  return readFileSync(`${FIXTURES}${path}`, 'utf8');
}

// The examples are free-form JSON that tests reach into by known paths; the server under test checks the shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type Loose = any;

/** The parts of the ANS examples the adaptation touches. */
interface ExampleAttachment {
  contentType?: string;
  url?: string;
  data?: string;
  size?: number;
  hash?: string;
  title?: string;
}
interface ExampleResource {
  resourceType: string;
  identifier?: unknown[];
  entry?: Array<{ item: { reference: string } }>;
  masterIdentifier: { value: string };
  type: { coding: unknown[] };
  category: Array<{ coding: Array<{ code: string }> }>;
  content: Array<{ attachment: ExampleAttachment; format?: unknown }>;
  data?: string;
}
interface ExampleEntry {
  fullUrl: string;
  resource: ExampleResource;
  request: { method: string; url: string };
}

/** An ANS example with the example patient replaced by ours. */
function adaptedExample<T>(file: string, patient: Patient): T {
  return JSON.parse(readFixture(`pdsm/${file}`).replaceAll(EXAMPLE_MATRICULE, patient.ins.matricule)) as T;
}

/**
 * The ANS ITI-65 example (List + DocumentReference + Binary) made real: a CDA about the patient
 * as the Binary, a List uniqueId, unique masterIdentifiers, and a second document (a PDF).
 */
export function iti65Bundle(
  patient: Patient,
  options: { cda?: Buffer; pdf?: Buffer; tag?: string } = {},
): Loose {
  const bundle = adaptedExample<{ entry: ExampleEntry[] }>(
    'Bundle-example-td2-iti65-lot-soumission.json',
    patient,
  );
  const tag = options.tag ?? randomUUID();
  const cda = options.cda ?? makeCda(patient.ins);
  const pdf = options.pdf ?? makePdf('PDSm PDF');
  const [listEntry, cdaEntry, cdaBinary] = bundle.entry as [ExampleEntry, ExampleEntry, ExampleEntry];
  listEntry.resource.identifier = [
    { use: 'official', system: 'urn:ietf:rfc:3986', value: `urn:uuid:${tag}` },
  ];
  const cdaDoc = cdaEntry.resource;
  cdaDoc.masterIdentifier.value = `urn:oid:1.2.250.1.999.${tag}.1`;
  Object.assign(cdaDoc.content[0]!.attachment, { size: cda.length, hash: sha1(cda) });
  cdaBinary.resource.data = b64(cda);

  const pdfEntry = structuredClone(cdaEntry);
  const pdfDoc = pdfEntry.resource;
  pdfEntry.fullUrl = 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000004';
  pdfDoc.masterIdentifier.value = `urn:oid:1.2.250.1.999.${tag}.2`;
  pdfDoc.type.coding = [{ system: 'http://loinc.org', code: '11502-2', display: 'CR de biologie' }];
  pdfDoc.category[0]!.coding[0]!.code = '10';
  pdfDoc.content[0] = {
    attachment: {
      ...pdfDoc.content[0]!.attachment,
      contentType: 'application/pdf',
      url: 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000005',
      size: pdf.length,
      hash: sha1(pdf),
      title: 'Bilan biologique',
    },
    format: {
      system: 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode',
      code: 'urn:ihe:iti:xds-sd:pdf:2008',
    },
  };
  const pdfBinary = {
    fullUrl: 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000005',
    resource: { resourceType: 'Binary', contentType: 'application/pdf', data: b64(pdf) },
    request: { method: 'POST', url: 'Binary' },
  };
  listEntry.resource.entry?.push({ item: { reference: pdfEntry.fullUrl } });
  (bundle.entry as unknown[]).push(pdfEntry, pdfBinary);
  return bundle;
}

/** The ANS ITI-105 example with our patient, a unique masterIdentifier and real content. */
export function iti105Resource(
  patient: Patient,
  content: Buffer = makePdf('ITI-105'),
  contentType = 'application/pdf',
): Loose {
  const dr = adaptedExample<ExampleResource>(
    'DocumentReference-example-td2-iti105-publication-simplifiee.json',
    patient,
  );
  dr.masterIdentifier.value = `urn:uuid:${randomUUID()}`;
  Object.assign(dr.content[0]!.attachment, { contentType, data: b64(content) });
  return dr;
}

export interface Census {
  documents: number;
  submissionSets: number;
  blobs: number;
}

/** How much is stored: refused requests must leave it unchanged. */
export async function census(rt: FhirRuntime): Promise<Census> {
  const count = async (table: 'documents' | 'submission_sets') =>
    Number(
      (
        await rt.ctx.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  let blobs = 0;
  for await (const _ of rt.ctx.blobs.list('')) blobs++;
  return { documents: await count('documents'), submissionSets: await count('submission_sets'), blobs };
}

export interface FhirCall {
  method?: 'GET' | 'POST' | 'DELETE';
  url: string;
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One request to the FHIR endpoint, JSON body sent as application/fhir+json unless told. */
export async function fhir(rt: FhirRuntime, call: FhirCall): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {
    ...(call.token ? { authorization: `Bearer ${call.token}` } : {}),
  };
  if (call.body !== undefined) headers['content-type'] = 'application/fhir+json';
  return rt.app.inject({
    method: call.method ?? (call.body === undefined ? 'GET' : 'POST'),
    url: call.url.startsWith('/') ? call.url : `/fhir/R4/${call.url}`,
    headers: { ...headers, ...call.headers },
    ...(call.body === undefined
      ? {}
      : {
          payload:
            typeof call.body === 'string' || Buffer.isBuffer(call.body)
              ? call.body
              : JSON.stringify(call.body),
        }),
  });
}

/** The OperationOutcome's first issue, for assertions. */
export function issueOf(res: LightMyRequestResponse): {
  code: string;
  expression?: string[];
  diagnostics: string;
} {
  const body = res.json<{
    resourceType: string;
    issue: Array<{ code: string; expression?: string[]; diagnostics: string }>;
  }>();
  if (body.resourceType !== 'OperationOutcome' || !body.issue[0])
    throw new Error(`not an OperationOutcome: ${res.body.slice(0, 300)}`);
  return body.issue[0];
}
