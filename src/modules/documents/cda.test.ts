import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { AppError } from '../../errors.ts';
import {
  extractNonXmlBody,
  hl7TimestampToIso,
  parseCdaHeader,
  type CdaHeader,
  type SafeXmlOptions,
} from './cda.ts';
import { sniffMediaType } from './file-type.ts';

const FIXTURES = new URL('../../../test/fixtures/cda/', import.meta.url);
const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const INS = { root: '1.2.250.1.213.1.4.8', extension: '279035121518989' };
const RPPS_AUTHOR = { root: '1.2.250.1.71.4.2.1', extension: '810101201234' };

/** A minimal valid CDA header around the given header elements and body. */
const cda = (
  inner: string,
  root = '<ClinicalDocument xmlns="urn:hl7-org:v3">',
  close = '</ClinicalDocument>',
) => `<?xml version="1.0" encoding="UTF-8"?>\n${root}${inner}${close}`;
const PATIENT = `<recordTarget><patientRole><id root="${INS.root}" extension="${INS.extension}"/></patientRole></recordTarget>`;

function catchAppError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError, nothing was thrown');
}

describe('parseCdaHeader on our fixtures', () => {
  it('reads a level-1 CDA (PDF inside) completely', () => {
    const header = parseCdaHeader(fixture('level1-pdf.xml'), 'content');
    expect(header).toEqual<CdaHeader>({
      title: 'Compte rendu de consultation & conclusions',
      typeCode: { code: '11488-4', codeSystem: '2.16.840.1.113883.6.1', displayName: 'Note de consultation' },
      effectiveTime: '2024-01-15T10:30:00+01:00',
      confidentialityCode: 'N',
      languageCode: 'fr-FR',
      documentId: { root: '1.2.250.1.999.1.1', extension: 'DOC-L1-0001' },
      setId: { root: '1.2.250.1.999.1.2', extension: 'SET-L1-0001' },
      versionNumber: 2,
      patient: {
        ids: [INS, { root: '1.2.250.1.999.2', extension: 'IPP-000042' }],
        given: ['Camille Anne', 'Camille'],
        family: 'EXEMPLE',
        birthTime: '1979-03-28',
        gender: 'F',
      },
      authors: [
        {
          ids: [RPPS_AUTHOR],
          given: ['Jean'],
          family: 'DOCTEUR',
          time: '2024-01-15T10:25:00+01:00',
          organization: {
            ids: [{ root: '1.2.250.1.71.4.2.2', extension: '1750099999' }],
            name: 'Cabinet du Parc',
          },
        },
      ],
      custodian: { ids: [{ root: '1.2.250.1.71.4.2.2', extension: '1750099999' }], name: 'Cabinet du Parc' },
      body: { kind: 'nonXMLBody', mediaType: 'application/pdf', representation: 'B64', size: 585 },
    });
  });

  it('reads a structured lab report written with a namespace prefix', () => {
    const header = parseCdaHeader(fixture('lab-report-structured.xml'));
    expect(header.typeCode).toEqual({
      code: '11502-2',
      codeSystem: '2.16.840.1.113883.6.1',
      displayName: "CR d'examens biologiques",
    });
    expect(header.title).toBe("Compte rendu d'examens biologiques");
    expect(header.effectiveTime).toBe('2024-02-20');
    expect(header.patient).toEqual({
      ids: [INS],
      given: ['Camille'],
      family: 'EXEMPLE',
      birthTime: '1979-03-28',
      gender: 'F',
    });
    expect(header.authors).toEqual([
      { ids: [RPPS_AUTHOR], given: ['Jean'], family: 'DOCTEUR', time: '2024-02-20T15:30:00.5-05:00' },
      { ids: [], time: '2024-02-20' },
    ]);
    expect(header.custodian).toEqual({
      ids: [{ root: '1.2.250.1.71.4.2.2', extension: '1750088888' }],
      name: 'Laboratoire Exemple',
    });
    expect(header.body).toEqual({ kind: 'structuredBody', sectionCount: 2 });
  });

  it('refuses a CDA without recordTarget', () => {
    const err = catchAppError(() => parseCdaHeader(fixture('missing-record-target.xml'), 'content'));
    expect(err.code).toBe('invalid_input');
    expect(err.field).toBe('content');
    expect(err.message).toMatch(/no recordTarget/);
  });

  it.each([
    ['billion-laughs.xml', /<!DOCTYPE/],
    ['xxe-external-entity.xml', /<!DOCTYPE/],
    ['not-well-formed.xml', /^The CDA document is not well-formed XML: .*titre/],
  ])('refuses %s', (name, reason) => {
    const started = performance.now();
    const err = catchAppError(() => parseCdaHeader(fixture(name), 'content'));
    expect(err.code).toBe('invalid_input');
    expect(err.message).toMatch(reason);
    expect(err.message).not.toMatch(/root:x:0:0|lollol/);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('extractNonXmlBody', () => {
  it('decodes the PDF of a level-1 CDA byte for byte', () => {
    const body = extractNonXmlBody(fixture('level1-pdf.xml'));
    expect(body?.mediaType).toBe('application/pdf');
    expect(body?.data.equals(fixture('tiny.pdf'))).toBe(true);
    expect(sniffMediaType(body?.data ?? new Uint8Array(0))).toBe('application/pdf');
  });

  it('returns undefined for a structured body and for a CDA without body', () => {
    expect(extractNonXmlBody(fixture('lab-report-structured.xml'))).toBeUndefined();
    expect(extractNonXmlBody(utf8(cda(PATIENT)))).toBeUndefined();
  });

  it('returns TXT content (the CDA default) as UTF-8 text/plain', () => {
    const body = extractNonXmlBody(
      utf8(cda(`${PATIENT}<component><nonXMLBody><text>Résultat : 5 &lt; 6</text></nonXMLBody></component>`)),
    );
    expect(body?.mediaType).toBe('text/plain');
    expect(body?.data.toString('utf8')).toBe('Résultat : 5 < 6');
  });

  it('normalises the declared media type', () => {
    const b64 = Buffer.from('%PDF-1.4\n%%EOF\n').toString('base64');
    const xml = cda(
      `${PATIENT}<component><nonXMLBody><text mediaType="application/x-pdf" representation="B64">${b64}</text></nonXMLBody></component>`,
    );
    expect(extractNonXmlBody(utf8(xml))?.mediaType).toBe('application/pdf');
  });

  it('returns undefined when the content is only a reference', () => {
    const xml = cda(
      `${PATIENT}<component><nonXMLBody><text mediaType="application/pdf" representation="B64"><reference value="http://x/doc.pdf"/></text></nonXMLBody></component>`,
    );
    expect(extractNonXmlBody(utf8(xml))).toBeUndefined();
  });

  it.each([
    ['bad base64 characters', 'representation="B64">JVBER*i0x', /not valid base64/],
    ['truncated base64', 'representation="B64">JVBERi0', /not valid base64/],
    ['unknown representation', 'representation="HEX">2550', /representation 'HEX'/],
  ])('refuses %s', (_name, textTail, reason) => {
    const xml = cda(
      `${PATIENT}<component><nonXMLBody><text mediaType="application/pdf" ${textTail}</text></nonXMLBody></component>`,
    );
    const err = catchAppError(() => extractNonXmlBody(utf8(xml), 'content'));
    expect(err.code).toBe('invalid_input');
    expect(err.message).toMatch(reason);
  });

  it('applies the same security checks as parseCdaHeader', () => {
    const err = catchAppError(() => extractNonXmlBody(fixture('xxe-external-entity.xml')));
    expect(err.message).toMatch(/DOCTYPE/);
  });
});

describe('parseCdaHeader refusals', () => {
  const utf16le = (s: string): Uint8Array =>
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
  const utf16be = (s: string): Uint8Array => Buffer.from(Buffer.from(s, 'utf16le').swap16());
  const valid = cda(PATIENT);

  const byteCases: Array<[string, Uint8Array, RegExp]> = [
    ['UTF-16LE with BOM', utf16le(valid), /UTF-16 byte order mark/],
    [
      'UTF-16BE with BOM',
      Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(valid)]),
      /UTF-16 byte order mark/,
    ],
    ['UTF-16LE without BOM', Buffer.from(valid, 'utf16le'), /looks UTF-16/],
    ['UTF-16BE without BOM', utf16be(valid), /looks UTF-16/],
    [
      'UTF-16 hiding a DOCTYPE',
      utf16le(`<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>${valid}`),
      /UTF-16/,
    ],
    ['Latin-1 bytes', Buffer.from(cda(`<title>Hématologie</title>${PATIENT}`), 'latin1'), /not valid UTF-8/],
  ];
  it.each(byteCases)('refuses %s', (_name, bytes, reason) => {
    const err = catchAppError(() => parseCdaHeader(bytes, 'content'));
    expect(err.code).toBe('invalid_input');
    expect(err.message).toMatch(reason);
  });

  it('accepts a UTF-8 byte order mark', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(valid)]);
    expect(parseCdaHeader(bytes).patient.ids).toEqual([INS]);
  });

  it('checks the size before decoding', () => {
    const err = catchAppError(() => parseCdaHeader(utf8(valid), 'content', { maxBytes: 50 }));
    expect(err.code).toBe('payload_too_large');
  });

  const docCases: Array<[string, string, RegExp]> = [
    [
      'another root',
      '<?xml version="1.0"?><Bundle xmlns="http://hl7.org/fhir"/>',
      /not a CDA R2 document: its root element is <Bundle>/,
    ],
    [
      'no namespace',
      cda(PATIENT, '<ClinicalDocument>'),
      /not in the urn:hl7-org:v3 namespace \(found no namespace\)/,
    ],
    ['wrong namespace', cda(PATIENT, '<ClinicalDocument xmlns="urn:hl7-org:v2">'), /found urn:hl7-org:v2/],
    [
      'prefix bound elsewhere',
      cda('', '<h:ClinicalDocument xmlns:h="urn:other" xmlns="urn:hl7-org:v3">', '</h:ClinicalDocument>'),
      /found urn:other/,
    ],
    [
      'undeclared prefix',
      cda('', '<h:ClinicalDocument>', '</h:ClinicalDocument>'),
      /prefix 'h' .* is not declared/,
    ],
    ['mismatched tag', cda('<title>x</titre>'), /^The CDA document is not well-formed XML: .*line 2/],
    ['unclosed root', '<ClinicalDocument xmlns="urn:hl7-org:v3"><title>x</title>', /not well-formed/],
    [
      'two roots',
      `${cda(PATIENT)}<ClinicalDocument xmlns="urn:hl7-org:v3"/>`,
      /not well-formed XML: .*(root|Multiple)/i,
    ],
    ['undefined entity', cda(`<title>&nbsp;</title>${PATIENT}`), /the entity &nbsp; is not defined/],
    ['bare ampersand', cda(`<title>A & B</title>${PATIENT}`), /not well-formed XML: .*'&'/],
    ['bare ampersand in an attribute', cda(`<code code="A & B"/>${PATIENT}`), /not well-formed XML: .*'&'/],
    ['invalid character reference', cda(`<title>&#0;</title>${PATIENT}`), /&#0; is not a valid character/],
    ['entity in an attribute', cda(`<code code="&xxe;"/>${PATIENT}`), /the entity &xxe; is not defined/],
    [
      'nesting deeper than 100',
      cda(`${PATIENT}${'<x>'.repeat(150)}${'</x>'.repeat(150)}`),
      /not well-formed XML: .*nested/i,
    ],
    ['recordTarget without id', cda('<recordTarget><patientRole/></recordTarget>'), /patientRole has no id/],
    [
      'patient id with nullFlavor only',
      cda('<recordTarget><patientRole><id nullFlavor="UNK"/></patientRole></recordTarget>'),
      /has no id/,
    ],
    ['two recordTargets', cda(PATIENT + PATIENT), /names 2 patients/],
    [
      'recordTarget in a foreign namespace',
      cda(PATIENT.replaceAll('<recordTarget>', '<recordTarget xmlns="urn:x">')),
      /no recordTarget/,
    ],
    [
      'malformed effectiveTime',
      cda(`<effectiveTime value="2024-01-15"/>${PATIENT}`),
      /effectiveTime '2024-01-15' is not a valid HL7 timestamp/,
    ],
    [
      'impossible birth date',
      cda(
        PATIENT.replace(
          '/></patientRole>',
          '/><patient><birthTime value="20230229"/></patient></patientRole>',
        ),
      ),
      /birthTime '20230229'/,
    ],
    ['non-numeric versionNumber', cda(`<versionNumber value="v2"/>${PATIENT}`), /versionNumber 'v2'/],
  ];
  it.each(docCases)('refuses %s', (_name, xml, reason) => {
    const err = catchAppError(() => parseCdaHeader(utf8(xml), 'content'));
    expect(err.code).toBe('invalid_input');
    expect(err.field).toBe('content');
    expect(err.message).toMatch(reason);
  });

  it('returns a minimal header with body none', () => {
    expect(parseCdaHeader(utf8(valid))).toEqual({
      patient: { ids: [INS] },
      authors: [],
      body: { kind: 'none' },
    });
  });

  it('does not let attribute names reach object prototypes', () => {
    const xml = cda(`<code __proto__="polluted" constructor="x" code="11502-2"/>${PATIENT}`);
    const header = catchOrValue(() => parseCdaHeader(utf8(xml)));
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    if (!(header instanceof AppError)) expect(header.typeCode?.code).toBe('11502-2');
  });
});

function catchOrValue<T>(fn: () => T): T | AppError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
}

describe('hl7TimestampToIso', () => {
  it.each([
    ['20240115103000+0100', '2024-01-15T10:30:00+01:00'],
    ['20240115', '2024-01-15'],
    ['2024', '2024'],
    ['202401', '2024-01'],
    ['2024011510', '2024-01-15T10:00:00'],
    ['202401151030', '2024-01-15T10:30:00'],
    ['202401151030-0330', '2024-01-15T10:30:00-03:30'],
    ['20240115103000.123+0000', '2024-01-15T10:30:00.123+00:00'],
    ['20240115+0100', '2024-01-15'],
    ['20240229', '2024-02-29'],
    [' 20240115 ', '2024-01-15'],
    ['20230229', undefined],
    ['20241301', undefined],
    ['20240100', undefined],
    ['2024011524', undefined],
    ['202401151060', undefined],
    ['20240115103060', undefined],
    ['2024011510300', undefined],
    ['20240115103000+01', undefined],
    ['20240115103000+1500', undefined],
    ['2024011510300012', undefined],
    ['202401151030.5', undefined],
    ['2024-01-15', undefined],
    ['', undefined],
  ])('%j → %j', (ts, iso) => {
    expect(hl7TimestampToIso(ts)).toBe(iso);
  });
});

const ANS_DIR = '/work/shared/fixtures/ans-cda-examples';
const ansFiles = existsSync(ANS_DIR)
  ? readdirSync(ANS_DIR)
      .filter((f) => f.endsWith('.xml'))
      .sort()
  : [];

describe.skipIf(ansFiles.length === 0)('official ANS CDA examples (read only, not copied)', () => {
  // Every example carries <?oxygen ...?> editor instructions, accepted by default (inert).
  const withOxygen: SafeXmlOptions = {};

  it.each(ansFiles)('%s: parses with a patient id, or fails with a clear AppError', (name) => {
    const outcome = catchOrValue(() => parseCdaHeader(readFileSync(`${ANS_DIR}/${name}`), 'content'));
    if (outcome instanceof AppError) {
      expect(outcome.code).toBe('invalid_input');
      expect(outcome.message).toMatch(/^The (XML|CDA) document/);
    } else {
      expect(outcome.patient.ids.length).toBeGreaterThan(0);
    }
  });

  it.each(ansFiles)('%s: parses with the default options', (name) => {
    const header = parseCdaHeader(readFileSync(`${ANS_DIR}/${name}`), 'content', withOxygen);
    expect(header.patient.ids[0]?.root).toMatch(/^1\.2\.250\.1\.213\.1\.4\.(8|10|11)$/);
    expect(header.patient.ids[0]?.extension).toMatch(/^[0-9]{13}[0-9]{2}$/);
    expect(header.typeCode?.code).toBeTruthy();
    expect(header.effectiveTime).toMatch(/^\d{4}-\d{2}-\d{2}/);
    expect(header.authors.length).toBeGreaterThan(0);
    expect(header.body.kind).not.toBe('none');
    if (header.body.kind === 'nonXMLBody') {
      const body = extractNonXmlBody(readFileSync(`${ANS_DIR}/${name}`), 'content', withOxygen);
      expect(body?.data.length).toBe(header.body.size);
      expect(sniffMediaType(body?.data ?? new Uint8Array(0))).toBe(body?.mediaType);
    }
  });
});
