/**
 * An incoming DocumentReference (PDSm comprehensive / simplified publish) → what the documents module
 * ingests (IncomingDocument, minus the content bytes). Pure functions, no I/O; errors point at
 * FHIRPath expressions under `prefix`. The way back is document-reference.present.ts.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { invalid } from '../errors.ts';
import {
  documentClasses,
  LOINC_SYSTEM,
  TRE_A03_OID,
  TRE_A03_SYSTEM,
  TRE_A05_SYSTEM,
  visibilityStatuses,
  type IncomingDocument,
} from '../modules/documents/index.ts';
import { IDNPS_SYSTEM, parseProfessionalIdentifier } from '../modules/identity/index.ts';
import {
  cleanConcept,
  codeableConceptSchema,
  codingSchema,
  fhirDateTime,
  identifierSchema,
  normalizeTypeSystem,
  parseShape,
  readInsReference,
  referenceSchema,
  V3_CONFIDENTIALITY_CODES,
  type CodeableConcept,
  type Coding,
  type InsRef,
  type Reference,
} from './common.ts';

const text = z.string().max(10_000);

const containedSchema = z.looseObject({
  resourceType: z.string(),
  id: z.string().optional(),
  identifier: z.array(identifierSchema).max(20).optional(),
  name: z.unknown().optional(),
});

export const documentReferenceSchema = z.looseObject({
  resourceType: z.literal('DocumentReference', { error: 'resourceType must be DocumentReference' }),
  contained: z.array(containedSchema).max(20).optional(),
  masterIdentifier: z.looseObject({ system: text.optional(), value: z.string().min(1).max(256) }),
  status: z.literal('current', { error: 'status must be current for a new document' }),
  type: codeableConceptSchema,
  category: z.array(codeableConceptSchema).max(10).optional(),
  subject: referenceSchema,
  author: z.array(referenceSchema).max(20).optional(),
  authenticator: referenceSchema.optional(),
  description: text.optional(),
  securityLabel: z.array(codeableConceptSchema).max(10).optional(),
  content: z
    .array(
      z.looseObject({
        attachment: z.looseObject({
          contentType: z.string().min(1).max(200),
          language: z.string().max(35).optional(),
          data: z.string().optional(),
          url: text.optional(),
          size: z.number().int().nonnegative().optional(),
          hash: text.optional(),
          title: text.optional(),
          creation: text.optional(),
        }),
        format: codingSchema.optional(),
      }),
    )
    .min(1)
    .max(1, { error: 'one content per DocumentReference' }),
  context: z
    .looseObject({
      period: z.looseObject({ start: text.optional(), end: text.optional() }).optional(),
      facilityType: codeableConceptSchema.optional(),
      practiceSetting: codeableConceptSchema.optional(),
      event: z.array(codeableConceptSchema).max(20).optional(),
    })
    .optional(),
  relatesTo: z
    .array(z.looseObject({ code: z.string(), target: referenceSchema }))
    .max(5)
    .optional(),
});

type DocumentReferenceInput = z.infer<typeof documentReferenceSchema>;
type Contained = z.infer<typeof containedSchema>;

/** An author or authenticator as the sender declared it (kept in `extra`). */
export interface DeclaredParty {
  resourceType?: string;
  identifier?: { system?: string; value?: string };
  rpps?: string;
  display?: string;
}

export interface ParsedDocumentReference {
  subject: InsRef;
  /** Inline base64 data, or the url of the Binary carrying it. */
  source: { kind: 'inline'; data: string; field: string } | { kind: 'url'; url: string; field: string };
  declared: { size?: number; hash?: string };
  document: Omit<IncomingDocument, 'content'>;
  declaredAuthors: DeclaredParty[];
}

export interface ReadOptions {
  /** FHIRPath of the resource, e.g. `Bundle.entry[1].resource` or `DocumentReference`. */
  prefix: string;
  baseUrl: string;
  testOids: readonly string[];
}

/**
 * Reads and validates an incoming DocumentReference.
 *
 * @example readDocumentReference(body, { prefix: 'DocumentReference', baseUrl, testOids: [] })
 */
export function readDocumentReference(resource: unknown, o: ReadOptions): ParsedDocumentReference {
  const dr = parseShape(documentReferenceSchema, resource, o.prefix);
  const p = o.prefix;
  const content = dr.content[0] as DocumentReferenceInput['content'][number];
  const attachment = content.attachment;
  const at = `${p}.content[0].attachment`;
  let source: ParsedDocumentReference['source'];
  if (attachment.data !== undefined) {
    if (attachment.url !== undefined)
      throw invalid('Give either attachment.data or attachment.url, not both', `${at}.url`);
    source = { kind: 'inline', data: attachment.data, field: `${at}.data` };
  } else if (attachment.url !== undefined) {
    source = { kind: 'url', url: attachment.url, field: `${at}.url` };
  } else {
    throw invalid('The content is missing: attachment.data or attachment.url is required', `${at}.data`);
  }
  const periodStart = dr.context?.period?.start;
  const documentDate =
    periodStart !== undefined
      ? fhirDateTime(periodStart, `${p}.context.period.start`)
      : attachment.creation !== undefined
        ? fhirDateTime(attachment.creation, `${at}.creation`)
        : undefined;
  const periodEnd = dr.context?.period?.end;
  if (periodEnd !== undefined) fhirDateTime(periodEnd, `${p}.context.period.end`);

  const declaredAuthors = (dr.author ?? []).map((a, i) =>
    readParty(a, dr.contained ?? [], `${p}.author[${i}]`),
  );
  const authenticator = dr.authenticator
    ? readParty(dr.authenticator, dr.contained ?? [], `${p}.authenticator`)
    : undefined;
  const format = content.format?.code ? compactCoding(content.format) : undefined;
  const title = attachment.title ?? dr.description;
  const facilityType = cleanConcept(dr.context?.facilityType);
  const practiceSetting = cleanConcept(dr.context?.practiceSetting);
  const event = (dr.context?.event ?? []).map(cleanConcept).filter((c) => c !== undefined);
  const extra: Record<string, unknown> = {
    ...(facilityType ? { facilityType } : {}),
    ...(practiceSetting ? { practiceSetting } : {}),
    ...(event.length ? { event } : {}),
    ...(periodEnd ? { periodEnd } : {}),
    ...(dr.description ? { description: dr.description.slice(0, 2000) } : {}),
    ...(format ? { format } : {}),
    ...(declaredAuthors.length ? { authors: declaredAuthors } : {}),
    ...(authenticator ? { authenticator } : {}),
  };
  const replacesId = readReplaces(dr.relatesTo ?? [], p, o.baseUrl);
  const confidentiality = readConfidentiality(dr.securityLabel ?? [], p);
  const classCode = readClass(dr.category ?? [], `${p}.category`);
  const document: Omit<IncomingDocument, 'content'> = {
    masterIdentifier: dr.masterIdentifier.value,
    mediaType: attachment.contentType,
    type: readType(dr.type, `${p}.type`),
    ...(classCode ? { classCode } : {}),
    ...(title ? { title: title.trim().slice(0, 500) } : {}),
    ...(documentDate ? { documentDate } : {}),
    ...(format ? { formatCode: format.code } : {}),
    ...(attachment.language ? { language: attachment.language } : {}),
    ...(confidentiality.length ? { confidentiality } : {}),
    ...(replacesId ? { replacesId } : {}),
    extra,
    fieldPrefix: p,
  };
  return {
    subject: readInsReference(dr.subject, `${p}.subject`, o.testOids),
    source,
    declared: {
      ...(attachment.size !== undefined ? { size: attachment.size } : {}),
      ...(attachment.hash !== undefined ? { hash: attachment.hash } : {}),
    },
    document,
    declaredAuthors,
  };
}

/**
 * Checks the declared attachment size and SHA-1 hash (when given) against the bytes received.
 *
 * @example verifyDeclaredContent(readDocumentReference(body, options), content); // throws 400 on a mismatch
 */
export function verifyDeclaredContent(parsed: ParsedDocumentReference, content: Buffer): void {
  const at = `${parsed.document.fieldPrefix}.content[0].attachment`;
  if (parsed.declared.size !== undefined && parsed.declared.size !== content.length) {
    throw invalid(
      `attachment.size is ${parsed.declared.size} but the content has ${content.length} bytes`,
      `${at}.size`,
    );
  }
  if (parsed.declared.hash !== undefined) {
    const actual = createHash('sha1').update(content).digest('base64');
    if (parsed.declared.hash !== actual)
      throw invalid('attachment.hash is not the SHA-1 (base64) of the content', `${at}.hash`);
  }
}

function compactCoding(c: Coding): { system?: string; code: string; display?: string } {
  return {
    ...(c.system ? { system: c.system.slice(0, 500) } : {}),
    code: (c.code ?? '').slice(0, 200),
    ...(c.display ? { display: c.display.slice(0, 500) } : {}),
  };
}

function readType(cc: CodeableConcept, field: string): { system: string; code: string; display?: string } {
  const codings = (cc.coding ?? [])
    .filter((c): c is Coding & { system: string; code: string } => Boolean(c.system && c.code))
    .map((c) => ({
      system: normalizeTypeSystem(c.system),
      code: c.code,
      ...(c.display ? { display: c.display.slice(0, 500) } : {}),
    }));
  const chosen = codings.find((c) => c.system === LOINC_SYSTEM || c.system === TRE_A05_SYSTEM) ?? codings[0];
  if (!chosen)
    throw invalid('type needs a coding with a system and a code (LOINC or TRE_A05)', `${field}.coding`);
  return chosen;
}

function isTreA03(system: string | undefined): boolean {
  return system === TRE_A03_SYSTEM || system === `urn:oid:${TRE_A03_OID}`;
}

function readClass(categories: CodeableConcept[], field: string): string | undefined {
  const known = new Set(documentClasses().map((c) => c.code));
  for (const [i, cc] of categories.entries()) {
    for (const [j, c] of (cc.coding ?? []).entries()) {
      if (!isTreA03(c.system)) continue;
      if (!c.code || !known.has(c.code)) {
        throw invalid(
          `Unknown document class '${c.code ?? ''}' (TRE_A03)`,
          `${field}[${i}].coding[${j}].code`,
        );
      }
      return c.code;
    }
  }
  return undefined;
}

function readConfidentiality(labels: CodeableConcept[], prefix: string): string[] {
  const allowed = new Set([...V3_CONFIDENTIALITY_CODES, ...visibilityStatuses().map((s) => s.code)]);
  const codes = new Set<string>();
  for (const [i, cc] of labels.entries()) {
    for (const [j, c] of (cc.coding ?? []).entries()) {
      if (!c.code) continue;
      if (!allowed.has(c.code)) {
        throw invalid(
          `Unknown confidentiality code '${c.code}' (v3-Confidentiality or TRE_A07)`,
          `${prefix}.securityLabel[${i}].coding[${j}].code`,
        );
      }
      codes.add(c.code);
    }
  }
  return [...codes];
}

const DOCUMENT_REFERENCE_PATH =
  /^DocumentReference\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:\/_history\/\d+)?$/;

function readReplaces(
  relations: Array<{ code: string; target: Reference }>,
  prefix: string,
  baseUrl: string,
): string | undefined {
  let found: string | undefined;
  for (const [i, rel] of relations.entries()) {
    const field = `${prefix}.relatesTo[${i}]`;
    if (rel.code !== 'replaces')
      throw invalid(`relatesTo.code '${rel.code}' is not supported (only replaces)`, `${field}.code`);
    if (found) throw invalid('A document replaces at most one other document', field);
    const ref = rel.target.reference ?? '';
    const local = ref.startsWith(`${baseUrl}/fhir/R4/`) ? ref.slice(`${baseUrl}/fhir/R4/`.length) : ref;
    const m = DOCUMENT_REFERENCE_PATH.exec(local);
    if (!m?.[1])
      throw invalid(
        'relatesTo.target.reference must be DocumentReference/<id> of a document of this server',
        `${field}.target.reference`,
      );
    found = m[1];
  }
  return found;
}

function nameOf(resource: Contained | undefined): string | undefined {
  const name = resource?.name;
  if (typeof name === 'string') return name;
  if (!Array.isArray(name)) return undefined;
  const first = name[0] as
    { text?: unknown; given?: unknown; family?: unknown; prefix?: unknown } | undefined;
  if (!first) return undefined;
  if (typeof first.text === 'string') return first.text;
  const given = Array.isArray(first.given)
    ? first.given.filter((g): g is string => typeof g === 'string')
    : [];
  const family = typeof first.family === 'string' ? [first.family] : [];
  const full = [...given, ...family].join(' ').trim();
  return full || undefined;
}

function readParty(ref: Reference, contained: Contained[], field: string): DeclaredParty {
  let resource: Contained | undefined;
  if (ref.reference?.startsWith('#')) {
    resource = contained.find((c) => c.id === ref.reference?.slice(1));
    if (!resource) throw invalid(`No contained resource ${ref.reference}`, `${field}.reference`);
  }
  const identifiers = ref.identifier ? [ref.identifier] : (resource?.identifier ?? []);
  const identifier = identifiers.find((i) => i.system === IDNPS_SYSTEM) ?? identifiers[0];
  const parsed =
    identifier?.system === IDNPS_SYSTEM && identifier.value
      ? parseProfessionalIdentifier(identifier.value)
      : undefined;
  const display = ref.display ?? nameOf(resource);
  const resourceType =
    resource?.resourceType ?? ref.type ?? /^([A-Z][A-Za-z]+)\//.exec(ref.reference ?? '')?.[1];
  return {
    ...(resourceType ? { resourceType } : {}),
    ...(identifier?.value
      ? {
          identifier: {
            ...(identifier.system ? { system: identifier.system } : {}),
            value: identifier.value.slice(0, 100),
          },
        }
      : {}),
    ...(parsed?.ok ? { rpps: parsed.rpps } : {}),
    ...(display ? { display: display.slice(0, 200) } : {}),
  };
}
