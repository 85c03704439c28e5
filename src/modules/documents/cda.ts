/**
 * CDA R2 documents (HL7 Clinical Document Architecture, as profiled by the French CI-SIS): read
 * the header into plain data, and take out the document embedded in a level-1 (nonXMLBody) CDA.
 * Identifiers (INS, RPPS…) are extracted as written; validating them is the identity module's job.
 * Pure functions, no I/O.
 */
import { invalid } from '../../errors.ts';
import { normalizeMediaType } from './file-type.ts';
import { parseSafeXml, type SafeXmlOptions, type XmlElement } from './safe-xml.ts';

export { assertSafeXml, decodeXmlBytes, DEFAULT_MAX_XML_BYTES, type SafeXmlOptions } from './safe-xml.ts';

export const HL7_V3_NAMESPACE = 'urn:hl7-org:v3';

export interface CdaIdentifier {
  root: string;
  extension?: string;
}

export interface CdaPerson {
  given?: string[];
  family?: string;
}

export interface CdaHeader {
  title?: string;
  /** ClinicalDocument/code: the document type, usually LOINC. */
  typeCode?: { code: string; codeSystem?: string; displayName?: string };
  /** ISO 8601. */
  effectiveTime?: string;
  confidentialityCode?: string;
  languageCode?: string;
  documentId?: CdaIdentifier;
  setId?: CdaIdentifier;
  versionNumber?: number;
  /** recordTarget/patientRole. */
  patient: { ids: CdaIdentifier[]; birthTime?: string; gender?: string } & CdaPerson;
  authors: Array<{ ids: CdaIdentifier[]; time?: string; organization?: CdaOrganization } & CdaPerson>;
  custodian?: CdaOrganization;
  body: CdaBodySummary;
}

export interface CdaOrganization {
  ids: CdaIdentifier[];
  name?: string;
}

export type CdaBodySummary =
  | { kind: 'nonXMLBody'; mediaType?: string; representation?: string; size: number }
  | { kind: 'structuredBody'; sectionCount: number }
  | { kind: 'none' };

// ---------------------------------------------------------------- tree helpers (HL7 namespace only)

function children(el: XmlElement | undefined, name: string): XmlElement[] {
  if (!el) return [];
  return el.children.filter((c) => c.localName === name && c.namespace === HL7_V3_NAMESPACE);
}

function child(el: XmlElement | undefined, ...path: string[]): XmlElement | undefined {
  let current = el;
  for (const name of path) current = children(current, name)[0];
  return current;
}

function attr(el: XmlElement | undefined, name: string): string | undefined {
  const value = el?.attributes[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function collapsedText(el: XmlElement | undefined): string | undefined {
  const text = el?.text.replace(/\s+/g, ' ').trim();
  return text === undefined || text === '' ? undefined : text;
}

// ---------------------------------------------------------------- timestamps

const HL7_TS = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d{1,6})?(?:([+-])(\d{2})(\d{2}))?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * HL7 v3 TS (`YYYY[MM[DD[HH[MM[SS[.S]]]]]][±ZZZZ]`) → ISO 8601, or undefined when malformed.
 * A time is always written with seconds; a time zone on a date without time is dropped.
 *
 * @example hl7TimestampToIso('20240115103000+0100') // '2024-01-15T10:30:00+01:00'
 * @example hl7TimestampToIso('202401151030') // '2024-01-15T10:30:00'
 * @example hl7TimestampToIso('20240115') // '2024-01-15'
 */
export function hl7TimestampToIso(ts: string): string | undefined {
  const m = HL7_TS.exec(ts.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, sign, tzh, tzm] = m;
  if (y === undefined) return undefined;
  const n = (v: string | undefined): number => Number(v ?? '0');
  if (frac && !s) return undefined;
  if (mo && (n(mo) < 1 || n(mo) > 12)) return undefined;
  if (d && (n(d) < 1 || n(d) > daysInMonth(n(y), n(mo)))) return undefined;
  if (n(h) > 23 || n(mi) > 59 || n(s) > 59 || n(tzh) > 14 || n(tzm) > 59) return undefined;
  let iso = y + (mo ? `-${mo}` : '') + (d ? `-${d}` : '');
  if (h) {
    iso += `T${h}:${mi ?? '00'}:${s ?? '00'}${frac ?? ''}`;
    if (sign) iso += `${sign}${tzh}:${tzm}`;
  }
  return iso;
}

// ---------------------------------------------------------------- header pieces

interface Reader {
  field: string | undefined;
}

function identifiers(el: XmlElement | undefined): CdaIdentifier[] {
  const ids: CdaIdentifier[] = [];
  for (const id of children(el, 'id')) {
    const root = attr(id, 'root');
    if (root === undefined) continue; // nullFlavor or incomplete: nothing to identify with
    const extension = attr(id, 'extension');
    ids.push(extension === undefined ? { root } : { root, extension });
  }
  return ids;
}

function identifier(el: XmlElement | undefined): CdaIdentifier | undefined {
  const root = attr(el, 'root');
  if (root === undefined) return undefined;
  const extension = attr(el, 'extension');
  return extension === undefined ? { root } : { root, extension };
}

function timestamp(el: XmlElement | undefined, path: string, r: Reader): string | undefined {
  const value = attr(el, 'value');
  if (value === undefined) return undefined;
  const iso = hl7TimestampToIso(value);
  if (iso === undefined) throw invalid(`The CDA ${path} '${value}' is not a valid HL7 timestamp`, r.field);
  return iso;
}

function hasQualifier(el: XmlElement, qualifier: string): boolean {
  return (attr(el, 'qualifier') ?? '').split(/\s+/).includes(qualifier);
}

/**
 * Reads the first `name` of a person. French CDA may give the birth name (qualifier BR) and the
 * used name (CL) side by side: the birth family name wins, used-only given names are left out
 * unless there is nothing else.
 */
function personName(holder: XmlElement | undefined): CdaPerson {
  const name = child(holder, 'name');
  if (!name) return {};
  const families = children(name, 'family');
  const family =
    families.find((f) => hasQualifier(f, 'BR')) ??
    families.find((f) => !hasQualifier(f, 'CL')) ??
    families[0];
  const givens = children(name, 'given');
  const civil = givens.filter((g) => !hasQualifier(g, 'CL'));
  const given = [...new Set((civil.length > 0 ? civil : givens).map(collapsedText))].filter(
    (g): g is string => g !== undefined,
  );
  const familyText = collapsedText(family);
  return {
    ...(given.length > 0 ? { given } : {}),
    ...(familyText !== undefined ? { family: familyText } : {}),
  };
}

function organization(el: XmlElement | undefined): CdaOrganization | undefined {
  if (!el) return undefined;
  const name = collapsedText(child(el, 'name'));
  return { ids: identifiers(el), ...(name !== undefined ? { name } : {}) };
}

function readPatient(doc: XmlElement, r: Reader): CdaHeader['patient'] {
  const targets = children(doc, 'recordTarget');
  if (targets.length === 0) {
    throw invalid('The CDA document has no recordTarget: the patient it is about is missing', r.field);
  }
  if (targets.length > 1) {
    throw invalid(`The CDA document names ${targets.length} patients (recordTarget); expected one`, r.field);
  }
  const role = child(targets[0], 'patientRole');
  const ids = identifiers(role);
  if (ids.length === 0) {
    throw invalid(
      'The CDA recordTarget/patientRole has no id: the patient identifier (INS) is missing',
      r.field,
    );
  }
  const patient = child(role, 'patient');
  const birthTime = timestamp(child(patient, 'birthTime'), 'patient birthTime', r);
  const gender = attr(child(patient, 'administrativeGenderCode'), 'code');
  return {
    ids,
    ...personName(patient),
    ...(birthTime !== undefined ? { birthTime } : {}),
    ...(gender !== undefined ? { gender } : {}),
  };
}

function readAuthors(doc: XmlElement, r: Reader): CdaHeader['authors'] {
  return children(doc, 'author').map((author) => {
    const assigned = child(author, 'assignedAuthor');
    const time = timestamp(child(author, 'time'), 'author time', r);
    const org = organization(child(assigned, 'representedOrganization'));
    return {
      ids: identifiers(assigned),
      ...personName(child(assigned, 'assignedPerson')),
      ...(time !== undefined ? { time } : {}),
      ...(org !== undefined ? { organization: org } : {}),
    };
  });
}

function readTypeCode(doc: XmlElement): CdaHeader['typeCode'] {
  const codeEl = child(doc, 'code');
  const code = attr(codeEl, 'code');
  if (code === undefined) return undefined;
  const codeSystem = attr(codeEl, 'codeSystem');
  const displayName = attr(codeEl, 'displayName');
  return {
    code,
    ...(codeSystem !== undefined ? { codeSystem } : {}),
    ...(displayName !== undefined ? { displayName } : {}),
  };
}

function readVersionNumber(doc: XmlElement, r: Reader): number | undefined {
  const value = attr(child(doc, 'versionNumber'), 'value');
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(value)) {
    throw invalid(`The CDA versionNumber '${value}' is not a whole number`, r.field);
  }
  return Number(value);
}

/** Decoded size of base64 text, without decoding it. */
function base64Size(b64: string): number {
  const compact = b64.replace(/\s+/g, '');
  const padding = compact.endsWith('==') ? 2 : compact.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((compact.length * 3) / 4) - padding);
}

function readBody(doc: XmlElement): CdaBodySummary {
  const component = child(doc, 'component');
  const nonXml = child(component, 'nonXMLBody');
  if (nonXml) {
    const text = child(nonXml, 'text');
    const mediaType = attr(text, 'mediaType');
    const representation = attr(text, 'representation');
    const content = text?.text ?? '';
    const size = representation === 'B64' ? base64Size(content) : Buffer.byteLength(content.trim(), 'utf8');
    return {
      kind: 'nonXMLBody',
      ...(mediaType !== undefined ? { mediaType } : {}),
      ...(representation !== undefined ? { representation } : {}),
      size,
    };
  }
  const structured = child(component, 'structuredBody');
  if (structured) {
    const sectionCount = children(structured, 'component').filter((c) => child(c, 'section')).length;
    return { kind: 'structuredBody', sectionCount };
  }
  return { kind: 'none' };
}

// ---------------------------------------------------------------- public API

function readClinicalDocument(bytes: Uint8Array, field?: string, options?: SafeXmlOptions): XmlElement {
  const root = parseSafeXml(bytes, field, options);
  if (root.localName !== 'ClinicalDocument') {
    throw invalid(`The document is not a CDA R2 document: its root element is <${root.localName}>`, field);
  }
  if (root.namespace !== HL7_V3_NAMESPACE) {
    throw invalid(
      `The CDA root element ClinicalDocument is not in the ${HL7_V3_NAMESPACE} namespace ` +
        `(found ${root.namespace ?? 'no namespace'})`,
      field,
    );
  }
  return root;
}

/**
 * Reads the header of a CDA R2 document, after refusing unsafe XML (see assertSafeXml).
 *
 * @throws AppError `invalid_input` for unsafe or malformed XML, a root that is not an HL7 v3
 *   ClinicalDocument, a missing recordTarget or patient id, or a malformed timestamp.
 * @example
 * const header = parseCdaHeader(await readFile('report.xml'), 'content');
 * header.patient.ids // [{ root: '1.2.250.1.213.1.4.8', extension: '279035121518989' }]
 */
export function parseCdaHeader(bytes: Uint8Array, field?: string, options?: SafeXmlOptions): CdaHeader {
  const doc = readClinicalDocument(bytes, field, options);
  const r: Reader = { field };
  const title = collapsedText(child(doc, 'title'));
  const typeCode = readTypeCode(doc);
  const effectiveTime = timestamp(child(doc, 'effectiveTime'), 'effectiveTime', r);
  const confidentialityCode = attr(child(doc, 'confidentialityCode'), 'code');
  const languageCode = attr(child(doc, 'languageCode'), 'code');
  const documentId = identifier(child(doc, 'id'));
  const setId = identifier(child(doc, 'setId'));
  const versionNumber = readVersionNumber(doc, r);
  const patient = readPatient(doc, r);
  const custodian = organization(
    child(doc, 'custodian', 'assignedCustodian', 'representedCustodianOrganization'),
  );
  return {
    ...(title !== undefined ? { title } : {}),
    ...(typeCode !== undefined ? { typeCode } : {}),
    ...(effectiveTime !== undefined ? { effectiveTime } : {}),
    ...(confidentialityCode !== undefined ? { confidentialityCode } : {}),
    ...(languageCode !== undefined ? { languageCode } : {}),
    ...(documentId !== undefined ? { documentId } : {}),
    ...(setId !== undefined ? { setId } : {}),
    ...(versionNumber !== undefined ? { versionNumber } : {}),
    patient,
    authors: readAuthors(doc, r),
    ...(custodian !== undefined ? { custodian } : {}),
    body: readBody(doc),
  };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The document embedded in a level-1 CDA (nonXMLBody), decoded; undefined when the CDA has a
 * structured body, no body, or only a reference to content stored elsewhere.
 * `representation="B64"` is base64-decoded (strictly); TXT (the default) is returned as UTF-8.
 * The media type is normalised (CDA's default is text/plain); checking that the bytes match it
 * is left to the caller (see assertContentMatchesType).
 *
 * @example extractNonXmlBody(cdaBytes) // { mediaType: 'application/pdf', data: <Buffer 25 50 44 46 ...> }
 */
export function extractNonXmlBody(
  bytes: Uint8Array,
  field?: string,
  options?: SafeXmlOptions,
): { mediaType: string; data: Buffer } | undefined {
  const doc = readClinicalDocument(bytes, field, options);
  const text = child(doc, 'component', 'nonXMLBody', 'text');
  if (!text) return undefined;
  const mediaType = normalizeMediaType(attr(text, 'mediaType') ?? 'text/plain');
  const representation = attr(text, 'representation') ?? 'TXT';
  if (representation === 'B64') {
    const compact = text.text.replace(/\s+/g, '');
    if (compact === '') return undefined;
    if (compact.length % 4 !== 0 || !BASE64.test(compact)) {
      throw invalid('The CDA nonXMLBody text is declared B64 but is not valid base64', field);
    }
    return { mediaType, data: Buffer.from(compact, 'base64') };
  }
  if (representation === 'TXT') {
    if (text.text.trim() === '') return undefined;
    return { mediaType, data: Buffer.from(text.text, 'utf8') };
  }
  throw invalid(`The CDA nonXMLBody representation '${representation}' is not supported (B64 or TXT)`, field);
}
