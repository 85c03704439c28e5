/**
 * ITI-67 Find Document References: the query string of `GET /DocumentReference` read strictly
 * (an unknown parameter is a 400, FHIR "handling=strict"). Pure functions, no I/O: the route then
 * resolves the patient and the authors' RPPS numbers.
 */
import { invalid } from '../errors.ts';
import type { SearchQuery } from '../modules/documents/index.ts';
import { TRE_A03_OID, TRE_A03_SYSTEM } from '../modules/documents/index.ts';
import { parseProfessionalIdentifier } from '../modules/identity/index.ts';
import { IDNPS_SYSTEM } from '../modules/identity/index.ts';
import { insFromToken, normalizeTypeSystem, realDay, type InsRef } from './common.ts';

export const NIR_OID = '1.2.250.1.213.1.4.8';
export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 100;
export const CURSOR_PARAM = '_cursor';

/** Supported parameters, as listed in the CapabilityStatement (_format is accepted and ignored). */
export const DOCUMENT_SEARCH_PARAMS = [
  {
    name: 'patient.identifier',
    type: 'token',
    documentation: 'Required. The INS: <system>|<matricule>, or the matricule alone for a NIR.',
  },
  {
    name: 'status',
    type: 'token',
    documentation: 'current, superseded, entered-in-error; a comma means OR.',
  },
  {
    name: 'type',
    type: 'token',
    documentation: 'Document type: <system>|<code> or <code> (LOINC, TRE_A05); a comma means OR.',
  },
  {
    name: 'category',
    type: 'token',
    documentation: 'Document class (TRE_A03): <system>|<code> or <code>; a comma means OR.',
  },
  {
    name: 'date',
    type: 'date',
    documentation:
      'When the document was received, with eq, ge, gt, le, lt; repeat for a range. Dates without time zone are UTC.',
  },
  {
    name: 'period',
    type: 'date',
    documentation:
      'Clinical date of the act (context.period.start), with eq, ge, gt, le, lt; repeat for a range.',
  },
  {
    name: 'author.identifier',
    type: 'token',
    documentation:
      'RPPS (11 digits) or IDNPS (8 + RPPS) of the author, optionally urn:oid:1.2.250.1.71.4.2.1|…; a comma means OR.',
  },
  {
    name: 'author',
    type: 'reference',
    documentation: 'Same values as author.identifier (the author is referenced by its RPPS identifier).',
  },
  {
    name: '_count',
    type: 'number',
    documentation: `Page size, default ${DEFAULT_COUNT}, at most ${MAX_COUNT}.`,
  },
  {
    name: CURSOR_PARAM,
    type: 'string',
    documentation: 'Opaque page cursor; follow the next link rather than building it.',
  },
] as const;

const KNOWN = new Set<string>([...DOCUMENT_SEARCH_PARAMS.map((p) => p.name), '_format']);
const DOCUMENT_STATUSES = new Set(['current', 'superseded', 'entered-in-error']);
const REPEATABLE = new Set(['date', 'period']);

export type RawQuery = Record<string, string | string[] | undefined>;

export interface DocumentSearch {
  patient: InsRef;
  /** The service query, without the author filter (the route resolves RPPS numbers to ids). */
  query: Omit<SearchQuery, 'authorProfessionalIds' | 'cursor'> & { cursor?: string };
  /** Authors' RPPS numbers (OR), when filtered. */
  authorRpps?: string[];
  /** True when no document can match (e.g. only entered-in-error asked). */
  empty: boolean;
  /** The query as given, without the cursor: for the self and next links. */
  params: Array<[string, string]>;
}

function values(raw: RawQuery, name: string): string[] {
  const v = raw[name];
  const list = v === undefined ? [] : Array.isArray(v) ? v : [v];
  if (list.length > 1 && !REPEATABLE.has(name))
    throw invalid(`${name} may be given once (a comma means OR)`, name);
  return list;
}

/** Splits on commas not escaped with a backslash, then unescapes. */
function splitOr(value: string): string[] {
  return value
    .split(/(?<!\\),/)
    .map((v) => v.replace(/\\([,|$\\])/g, '$1').trim())
    .filter((v) => v !== '');
}

function token(value: string): { system?: string; code: string } {
  const bar = value.search(/(?<!\\)\|/);
  if (bar < 0) return { code: value };
  const system = value.slice(0, bar);
  return system ? { system, code: value.slice(bar + 1) } : { code: value.slice(bar + 1) };
}

const DATE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * The implicit range [start, end) a FHIR date search value stands for (a time without zone is UTC).
 *
 * @example dateRange('2024-01', 'date') // { start: 2024-01-01T00:00Z, end: 2024-02-01T00:00Z }
 */
export function dateRange(value: string, field: string): { start: Date; end: Date } {
  // A '+' sent unencoded arrives as a space.
  const v = value.replace(/ (\d{2}:\d{2})$/, '+$1');
  const m = DATE.exec(v);
  if (!m || !realDay(v))
    throw invalid(`'${value}' is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime)`, field);
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  if (mo === undefined)
    return { start: new Date(Date.UTC(year, 0, 1)), end: new Date(Date.UTC(year + 1, 0, 1)) };
  const month = Number(mo) - 1;
  if (month < 0 || month > 11) throw invalid(`'${value}' has no such month`, field);
  if (d === undefined)
    return { start: new Date(Date.UTC(year, month, 1)), end: new Date(Date.UTC(year, month + 1, 1)) };
  const day = Number(d);
  if (h === undefined)
    return { start: new Date(Date.UTC(year, month, day)), end: new Date(Date.UTC(year, month, day + 1)) };
  const start = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${frac ?? ''}${tz ?? 'Z'}`);
  if (Number.isNaN(start.getTime())) throw invalid(`'${value}' is not a valid dateTime`, field);
  const width = frac ? 1 : s !== undefined ? 1000 : 60_000;
  return { start, end: new Date(start.getTime() + width) };
}

/** Combines repeated date parameters (AND) into one half-open interval. */
function dateBounds(list: string[], field: string): { from?: Date; to?: Date } {
  let from: Date | undefined;
  let to: Date | undefined;
  const later = (a: Date | undefined, b: Date) => (a && a > b ? a : b);
  const earlier = (a: Date | undefined, b: Date) => (a && a < b ? a : b);
  for (const raw of list) {
    if (raw.includes(','))
      throw invalid(`${field} does not take a list (repeat the parameter for a range)`, field);
    const m = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)?(.*)$/.exec(raw);
    const prefix = m?.[1] ?? 'eq';
    const { start, end } = dateRange(m?.[2] ?? '', field);
    switch (prefix) {
      case 'eq':
        from = later(from, start);
        to = earlier(to, end);
        break;
      case 'ge':
        from = later(from, start);
        break;
      case 'gt':
        from = later(from, end);
        break;
      case 'le':
        to = earlier(to, end);
        break;
      case 'lt':
        to = earlier(to, start);
        break;
      default:
        throw invalid(`The date prefix ${prefix} is not supported (eq, ge, gt, le, lt)`, field);
    }
  }
  return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

function readRpps(value: string, field: string): string {
  const t = token(value);
  if (t.system !== undefined && t.system !== IDNPS_SYSTEM) {
    throw invalid(`The author identifier system must be ${IDNPS_SYSTEM} (RPPS/IDNPS)`, field);
  }
  const parsed = parseProfessionalIdentifier(t.code);
  if (!parsed.ok) throw invalid(parsed.reason, field);
  return parsed.rpps;
}

/**
 * Reads an ITI-67 query.
 *
 * @example parseDocumentSearch({ 'patient.identifier': 'urn:oid:1.2.250.1.213.1.4.8|279035121518989', status: 'current' }, { testOids: [] })
 */
export function parseDocumentSearch(raw: RawQuery, o: { testOids: readonly string[] }): DocumentSearch {
  for (const name of Object.keys(raw)) {
    if (!KNOWN.has(name)) throw invalid(`Unknown or unsupported search parameter: ${name}`, name);
  }
  const format = values(raw, '_format')[0];
  if (format !== undefined && !['json', 'application/json', 'application/fhir+json'].includes(format)) {
    throw invalid('Only JSON is served (_format=json)', '_format');
  }
  const patientValue = values(raw, 'patient.identifier')[0];
  if (!patientValue)
    throw invalid('patient.identifier is required (the INS of the patient)', 'patient.identifier');
  if (splitOr(patientValue).length > 1) throw invalid('Search one patient at a time', 'patient.identifier');
  const patient = insFromToken(patientValue, 'patient.identifier', o.testOids, NIR_OID);

  let empty = false;
  const query: DocumentSearch['query'] = { limit: DEFAULT_COUNT };
  const status = values(raw, 'status')[0];
  if (status !== undefined) {
    const codes = splitOr(status).map((s) => token(s).code);
    const unknown = codes.find((c) => !DOCUMENT_STATUSES.has(c));
    if (unknown !== undefined) throw invalid(`Unknown status '${unknown}'`, 'status');
    const kept = codes.filter((c): c is 'current' | 'superseded' => c === 'current' || c === 'superseded');
    if (kept.length === 0) empty = true;
    else query.status = kept;
  }
  const type = values(raw, 'type')[0];
  if (type !== undefined) {
    query.type = splitOr(type).map((v) => {
      const t = token(v);
      if (!t.code) throw invalid('A type token needs a code', 'type');
      return t.system ? { system: normalizeTypeSystem(t.system), code: t.code } : { code: t.code };
    });
  }
  const category = values(raw, 'category')[0];
  if (category !== undefined) {
    query.classCode = splitOr(category).map((v) => {
      const t = token(v);
      if (t.system !== undefined && t.system !== TRE_A03_SYSTEM && t.system !== `urn:oid:${TRE_A03_OID}`) {
        throw invalid(`category is searched on the TRE_A03 classes (${TRE_A03_SYSTEM})`, 'category');
      }
      return t.code;
    });
  }
  const received = dateBounds(values(raw, 'date'), 'date');
  if (received.from) query.createdFrom = received.from;
  if (received.to) query.createdTo = received.to;
  const clinical = dateBounds(values(raw, 'period'), 'period');
  if (clinical.from) query.dateFrom = clinical.from;
  if (clinical.to) query.dateTo = clinical.to;

  let authorRpps: string[] | undefined;
  for (const name of ['author.identifier', 'author'] as const) {
    const v = values(raw, name)[0];
    if (v === undefined) continue;
    const rpps = splitOr(v).map((x) => readRpps(x, name));
    authorRpps = authorRpps ? authorRpps.filter((r) => rpps.includes(r)) : rpps;
  }

  const count = values(raw, '_count')[0];
  if (count !== undefined) {
    if (!/^[0-9]{1,6}$/.test(count) || Number(count) < 1)
      throw invalid('_count must be a positive whole number', '_count');
    query.limit = Math.min(Number(count), MAX_COUNT);
  }
  const cursor = values(raw, CURSOR_PARAM)[0];
  if (cursor !== undefined) {
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw invalid('The page cursor is not valid', CURSOR_PARAM);
    query.cursor = cursor;
  }
  const params: Array<[string, string]> = [];
  for (const [name, v] of Object.entries(raw)) {
    if (name === CURSOR_PARAM || v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) params.push([name, one]);
  }
  return { patient, query, ...(authorRpps ? { authorRpps } : {}), empty, params };
}
