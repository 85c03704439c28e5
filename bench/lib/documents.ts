/**
 * Documents for load: distinct PDFs of a chosen size and the FHIR ITI-105 DocumentReference
 * (simplified publish) that carries one. Shared by the ingestion benchmark and the crash test.
 */
import { randomBytes, randomInt } from 'node:crypto';

/**
 * A well-formed one-page PDF of about `size` bytes (never less than ~600), with random text in its
 * content stream so that no two are alike.
 * @example const pdf = makePdf(20 * 1024); pdf.subarray(0, 5).toString() // '%PDF-'
 */
export function makePdf(size: number, label = 'Carnet load document'): Buffer {
  const head = `BT /F1 10 Tf 40 800 Td (${label.replace(/[()\\]/g, '')}) Tj ET\n`;
  const fixedOverhead = 620 + head.length;
  // base64 text: 4 characters per 3 random bytes, laid out as PDF comment lines (75 characters + "\n%").
  const fillerBytes = Math.max(16, Math.floor(((size - fixedOverhead) * 75) / 77));
  const filler = randomBytes(Math.ceil((fillerBytes * 3) / 4))
    .toString('base64')
    .slice(0, fillerBytes)
    .replace(/(.{75})/g, '$1\n');
  const stream = `${head}%${filler.replace(/\n/g, '\n%')}\n`;
  const objects = [
    '<</Type/Catalog/Pages 2 0 R>>',
    '<</Type/Pages/Kids[3 0 R]/Count 1>>',
    '<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</Font<</F1 5 0 R>>>>/Contents 4 0 R>>',
    `<</Length ${Buffer.byteLength(stream, 'latin1')}>>\nstream\n${stream}endstream`,
    '<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<</Size ${objects.length + 1}/Root 1 0 R>>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/**
 * An OID prefix unique to this run (`1.2.250.1.999.<time>.<random>`), for masterIdentifiers that
 * never collide with another run on the same database.
 * @example `urn:oid:${runOidPrefix()}.${i}`
 */
export function runOidPrefix(): string {
  return `1.2.250.1.999.${Date.now()}.${randomInt(1, 1_000_000)}`;
}

export interface PatientRef {
  ins: string;
  insOid: string;
}

export interface DocumentReferenceInput {
  /** The full masterIdentifier value, e.g. `urn:oid:1.2.250.1.999.…`. */
  masterIdentifier: string;
  patient: PatientRef;
  pdf: Buffer;
  title?: string;
}

/**
 * The ITI-105 DocumentReference (a consultation note, LOINC 11488-4) carrying `pdf` inline.
 * @example const body = JSON.stringify(documentReference({ masterIdentifier, patient, pdf }));
 */
export function documentReference(input: DocumentReferenceInput): Record<string, unknown> {
  const title = input.title ?? 'Compte rendu de consultation';
  return {
    resourceType: 'DocumentReference',
    masterIdentifier: { system: 'urn:ietf:rfc:3986', value: input.masterIdentifier },
    status: 'current',
    type: { coding: [{ system: 'http://loinc.org', code: '11488-4', display: 'Consult note' }] },
    subject: { reference: `Patient?identifier=urn:oid:${input.patient.insOid}|${input.patient.ins}` },
    date: '2026-11-20T10:00:00+01:00',
    description: title,
    content: [{ attachment: { contentType: 'application/pdf', data: input.pdf.toString('base64'), title } }],
  };
}
