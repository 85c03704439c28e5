import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import type { DocumentMeta } from '../modules/documents/index.ts';
import { readDocumentReference, verifyDeclaredContent } from './document-reference.fhir.ts';
import { toDocumentReference } from './document-reference.present.ts';
import { b64, sha1, type Loose } from './fhir.test-support.ts';

const NIR = 'urn:oid:1.2.250.1.213.1.4.8';
const INS = '279035121518989';
const BASE = 'https://carnet.test';
const opts = { prefix: 'DocumentReference', baseUrl: BASE, testOids: [] };

function resource(): Loose {
  return {
    resourceType: 'DocumentReference',
    contained: [
      {
        resourceType: 'Practitioner',
        id: 'p1',
        identifier: [{ system: 'urn:oid:1.2.250.1.71.4.2.1', value: '810005173140' }],
        name: [{ family: 'Martin', given: ['Anne'] }],
      },
    ],
    masterIdentifier: { system: 'urn:ietf:rfc:3986', value: 'urn:oid:1.2.3.4' },
    status: 'current',
    type: {
      coding: [{ system: 'urn:oid:2.16.840.1.113883.6.1', code: '11502-2', display: 'CR de biologie' }],
    },
    category: [{ coding: [{ system: 'urn:oid:1.2.250.1.213.1.1.4.1', code: '10' }] }],
    subject: { identifier: { system: NIR, value: INS } },
    author: [{ reference: '#p1' }],
    description: 'Bilan',
    securityLabel: [{ coding: [{ system: 'x', code: 'MASQUE_PS' }] }, { coding: [{ code: 'N' }] }],
    content: [
      {
        attachment: {
          contentType: 'application/pdf',
          data: b64('%PDF-1.4'),
          language: 'fr-FR',
          creation: '2024-02-01',
        },
        format: { system: 's', code: 'urn:ihe:iti:xds-sd:pdf:2008' },
      },
    ],
    context: {
      period: { start: '2024-01-15T10:30:00+01:00', end: '2024-01-15T11:00:00+01:00' },
      event: [{ coding: [{ code: 'E1' }] }],
    },
    relatesTo: [
      {
        code: 'replaces',
        target: { reference: `${BASE}/fhir/R4/DocumentReference/01234567-89ab-7def-8123-456789abcdef` },
      },
    ],
  };
}

describe('readDocumentReference', () => {
  it('maps the PDSm elements onto an incoming document', () => {
    const parsed = readDocumentReference(resource(), opts);
    expect(parsed.subject).toEqual({ oid: '1.2.250.1.213.1.4.8', matricule: INS });
    expect(parsed.source).toMatchObject({
      kind: 'inline',
      field: 'DocumentReference.content[0].attachment.data',
    });
    expect(parsed.document).toMatchObject({
      masterIdentifier: 'urn:oid:1.2.3.4',
      mediaType: 'application/pdf',
      type: { system: 'http://loinc.org', code: '11502-2', display: 'CR de biologie' },
      classCode: '10',
      title: 'Bilan',
      documentDate: '2024-01-15T10:30:00+01:00',
      formatCode: 'urn:ihe:iti:xds-sd:pdf:2008',
      language: 'fr-FR',
      confidentiality: ['MASQUE_PS', 'N'],
      replacesId: '01234567-89ab-7def-8123-456789abcdef',
      fieldPrefix: 'DocumentReference',
    });
    expect(parsed.document.extra).toMatchObject({
      periodEnd: '2024-01-15T11:00:00+01:00',
      event: [{ coding: [{ code: 'E1' }] }],
      authors: [{ resourceType: 'Practitioner', rpps: '10005173140', display: 'Anne Martin' }],
    });
  });

  it('falls back to attachment.creation for the clinical date', () => {
    const r = resource();
    delete r.context;
    expect(readDocumentReference(r, opts).document.documentDate).toBe('2024-02-01');
  });

  it.each<[string, (r: Loose) => void, string]>([
    ['not a DocumentReference', (r) => void (r.resourceType = 'Binary'), 'DocumentReference.resourceType'],
    ['no masterIdentifier', (r) => void delete r.masterIdentifier, 'DocumentReference.masterIdentifier'],
    [
      'empty masterIdentifier',
      (r) => void (r.masterIdentifier.value = ''),
      'DocumentReference.masterIdentifier.value',
    ],
    ['status', (r) => void (r.status = 'entered-in-error'), 'DocumentReference.status'],
    [
      'type without code',
      (r) => void (r.type = { coding: [{ system: 'http://loinc.org' }] }),
      'DocumentReference.type.coding',
    ],
    ['no subject', (r) => void delete r.subject, 'DocumentReference.subject'],
    [
      'subject not an INS',
      (r) => void (r.subject = { identifier: { system: 'urn:oid:1.2.3', value: INS } }),
      'DocumentReference.subject.identifier.system',
    ],
    [
      'subject and reference disagree',
      (r) => void (r.subject.reference = `Patient?identifier=${NIR}|279035121518988`),
      'DocumentReference.subject',
    ],
    ['two contents', (r) => void r.content.push(r.content[0]), 'DocumentReference.content'],
    [
      'no content',
      (r) => void delete r.content[0].attachment.data,
      'DocumentReference.content[0].attachment.data',
    ],
    [
      'no contentType',
      (r) => void delete r.content[0].attachment.contentType,
      'DocumentReference.content[0].attachment.contentType',
    ],
    [
      'bad date',
      (r) => void (r.context.period.start = '2024-02-30'),
      'DocumentReference.context.period.start',
    ],
    [
      'time without zone',
      (r) => void (r.context.period.start = '2024-02-01T10:00:00'),
      'DocumentReference.context.period.start',
    ],
    [
      'unknown class',
      (r) => void (r.category[0].coding[0].code = '77'),
      'DocumentReference.category[0].coding[0].code',
    ],
    [
      'unknown confidentiality',
      (r) => void (r.securityLabel[0].coding[0].code = 'SECRET'),
      'DocumentReference.securityLabel[0].coding[0].code',
    ],
    ['other relation', (r) => void (r.relatesTo[0].code = 'appends'), 'DocumentReference.relatesTo[0].code'],
    [
      'foreign replaces target',
      (r) =>
        void (r.relatesTo[0].target.reference =
          'https://elsewhere/DocumentReference/01234567-89ab-7def-8123-456789abcdef'),
      'DocumentReference.relatesTo[0].target.reference',
    ],
    [
      'missing contained author',
      (r) => void (r.author[0].reference = '#nobody'),
      'DocumentReference.author[0].reference',
    ],
  ])('refuses %s', (_name, change, expression) => {
    const r = resource();
    change(r);
    try {
      readDocumentReference(r, opts);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).field).toBe(expression);
    }
  });

  it('checks declared size and hash', () => {
    const content = Buffer.from('%PDF-1.4');
    const r = resource();
    r.content[0].attachment.size = content.length;
    r.content[0].attachment.hash = sha1(content);
    expect(() => verifyDeclaredContent(readDocumentReference(r, opts), content)).not.toThrow();
    expect(() => verifyDeclaredContent(readDocumentReference(r, opts), Buffer.from('%PDF-1.5'))).toThrow(
      /SHA-1/,
    );
  });
});

describe('toDocumentReference', () => {
  const meta: DocumentMeta = {
    id: '01234567-89ab-7def-8123-456789abcdef',
    patientId: 'p',
    masterIdentifier: 'urn:oid:1.2.3',
    status: 'superseded',
    source: 'professional',
    type: { system: 'http://loinc.org', code: '11502-2', display: null },
    classCode: '10',
    category: 'biology',
    title: 'Bilan',
    documentDate: '2024-01-15T09:30:00.000Z',
    createdAt: '2024-01-16T08:00:00.000Z',
    updatedAt: '2024-01-17T08:00:00.000Z',
    author: { kind: 'professional', professionalId: 'x', organizationId: 'o', display: 'Jean Docteur' },
    mediaType: 'application/pdf',
    formatCode: 'urn:ihe:iti:xds-sd:pdf:2008',
    language: null,
    size: 8,
    sha256: '',
    sha1: 'abc=',
    confidentiality: ['N', 'INVISIBLE_PATIENT'],
    replacesId: 'fedcba98-7654-7321-8123-456789abcdef',
    submissionSetId: null,
    readAt: null,
    masked: false,
    releaseAt: null,
    extra: {
      periodEnd: '2024-01-15T10:00:00Z',
      authors: [{ resourceType: 'Practitioner', rpps: '10005173140', display: 'A' }],
    },
  };

  it('presents a stored document as a PDSm DocumentReference', () => {
    const dr = toDocumentReference(meta, {
      baseUrl: BASE,
      patient: { oid: '1.2.250.1.213.1.4.8', matricule: INS },
      authorRpps: '10101201234',
    }) as Loose;
    expect(dr.status).toBe('superseded');
    expect(dr.date).toBe(meta.createdAt);
    expect(dr.meta.lastUpdated).toBe(meta.updatedAt);
    expect(dr.identifier[0].value).toBe(`urn:uuid:${meta.id}`);
    expect(dr.subject.reference).toBe(`Patient?identifier=${NIR}|${INS}`);
    expect(dr.author[0].identifier.value).toBe('810101201234');
    expect(dr.author[1]).toEqual({ type: 'Practitioner', display: 'A' });
    expect(dr.securityLabel.map((s: Loose) => s.coding[0].system)).toEqual([
      'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
      'https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument',
    ]);
    expect(dr.content[0].attachment).toEqual({
      contentType: 'application/pdf',
      url: `${BASE}/fhir/R4/Binary/${meta.id}`,
      size: 8,
      hash: 'abc=',
      title: 'Bilan',
      creation: meta.documentDate,
    });
    expect(dr.content[0].format.code).toBe('urn:ihe:iti:xds-sd:pdf:2008');
    expect(dr.context.period).toEqual({ start: meta.documentDate, end: '2024-01-15T10:00:00Z' });
    expect(dr.relatesTo[0].target.reference).toBe(`DocumentReference/${meta.replacesId}`);
  });
});
