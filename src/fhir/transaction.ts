/**
 * ITI-65 Provide Document Bundle (PDSm comprehensive): a `transaction` Bundle holding one
 * SubmissionSet List, its DocumentReferences and the Binaries they point at. The whole bundle is
 * validated before anything is stored, then handed to the documents module as one submission
 * (all or nothing). The answer is a `transaction-response` whose entries follow the request's.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AppError, invalid } from '../errors.ts';
import type { Ctx } from '../platform/context.ts';
import type { ProfessionalActor } from '../modules/access/index.ts';
import { ingestSubmission, type IncomingDocument, type IngestResult } from '../modules/documents/index.ts';
import { resolvePatientByIns, type Patient } from '../modules/identity/index.ts';
import {
  codeableConceptSchema,
  decodeBase64,
  identifierSchema,
  IHE_SOURCE_ID_URLS,
  MHD_LIST_TYPES,
  parseShape,
  readInsReference,
  referenceSchema,
  remapField,
  type FhirResource,
  type InsRef,
} from './common.ts';
import { isObservationBundle, provideObservationBundle } from './observation.fhir.ts';
import {
  readDocumentReference,
  verifyDeclaredContent,
  type ParsedDocumentReference,
} from './document-reference.fhir.ts';

const bundleSchema = z.looseObject({
  resourceType: z.literal('Bundle', { error: 'resourceType must be Bundle' }),
  type: z.literal('transaction', { error: 'type must be transaction (ITI-65)' }),
  entry: z
    .array(
      z.looseObject({
        fullUrl: z.string().max(2000).optional(),
        resource: z.looseObject({ resourceType: z.string() }),
        request: z.looseObject({ method: z.string(), url: z.string().max(2000) }),
      }),
    )
    .min(2)
    .max(101),
});

const listSchema = z.looseObject({
  resourceType: z.literal('List'),
  identifier: z.array(identifierSchema).max(10).optional(),
  extension: z
    .array(z.looseObject({ url: z.string(), valueIdentifier: identifierSchema.optional() }))
    .max(50)
    .optional(),
  status: z.literal('current', { error: 'status must be current' }),
  mode: z.literal('working', { error: 'mode must be working' }),
  code: codeableConceptSchema,
  subject: referenceSchema,
  entry: z
    .array(z.looseObject({ item: referenceSchema }))
    .max(100)
    .optional(),
});

const binarySchema = z.looseObject({
  resourceType: z.literal('Binary'),
  contentType: z.string().min(1).max(200),
  data: z.string(),
});

type EntryRole =
  { kind: 'List' } | { kind: 'DocumentReference'; doc: number } | { kind: 'Binary'; doc: number };

interface PlannedDocument {
  entryIndex: number;
  parsed: ParsedDocumentReference;
  content: Buffer;
}

export interface TransactionPlan {
  subject: InsRef;
  subjectField: string;
  submissionSet: { masterIdentifier: string; sourceId: string | null };
  documents: PlannedDocument[];
  roles: EntryRole[];
}

const essence = (mediaType: string): string => (mediaType.split(';')[0] ?? '').trim().toLowerCase();

function readList(resource: unknown, prefix: string, testOids: readonly string[]) {
  const list = parseShape(listSchema, resource, prefix);
  if (!(list.code.coding ?? []).some((c) => c.system === MHD_LIST_TYPES && c.code === 'submissionset')) {
    throw invalid(
      `List.code must be ${MHD_LIST_TYPES}#submissionset (folders are not supported)`,
      `${prefix}.code`,
    );
  }
  const ids = list.identifier ?? [];
  const uniqueId =
    ids.find((i) => i.use === 'official' && i.value) ?? ids.find((i) => i.use !== 'usual' && i.value);
  if (!uniqueId?.value) {
    throw invalid(
      'The SubmissionSet uniqueId (List.identifier, use official) is required: it makes the submission idempotent',
      `${prefix}.identifier`,
    );
  }
  if (uniqueId.value.length > 256)
    throw invalid('The SubmissionSet uniqueId is longer than 256 characters', `${prefix}.identifier`);
  const sourceId =
    (list.extension ?? []).find((x) => IHE_SOURCE_ID_URLS.includes(x.url))?.valueIdentifier?.value ?? null;
  return {
    subject: readInsReference(list.subject, `${prefix}.subject`, testOids),
    masterIdentifier: uniqueId.value,
    sourceId: sourceId ? sourceId.slice(0, 256) : null,
    items: (list.entry ?? []).map((e, i) => ({
      reference: e.item.reference,
      field: `${prefix}.entry[${i}].item.reference`,
    })),
  };
}

/**
 * Validates an ITI-65 bundle completely (shapes, references, base64, declared size/hash) without I/O.
 *
 * @example const plan = readTransaction(body, { baseUrl, testOids: [] });
 */
export function readTransaction(
  body: unknown,
  o: { baseUrl: string; testOids: readonly string[] },
): TransactionPlan {
  const bundle = parseShape(bundleSchema, body, 'Bundle');
  const fullUrls = new Map<string, number>();
  for (const [i, entry] of bundle.entry.entries()) {
    const at = `Bundle.entry[${i}]`;
    const type = entry.resource.resourceType;
    if (type !== 'List' && type !== 'DocumentReference' && type !== 'Binary') {
      throw invalid(
        `${type} is not accepted in a provide bundle (List, DocumentReference, Binary)`,
        `${at}.resource.resourceType`,
      );
    }
    if (entry.request.method !== 'POST')
      throw invalid('Entries are created with POST', `${at}.request.method`);
    if (entry.request.url !== type) throw invalid(`request.url must be ${type}`, `${at}.request.url`);
    if (!entry.fullUrl)
      throw invalid('fullUrl is required (resources reference each other by it)', `${at}.fullUrl`);
    if (fullUrls.has(entry.fullUrl)) throw invalid('Two entries share this fullUrl', `${at}.fullUrl`);
    fullUrls.set(entry.fullUrl, i);
  }
  const entries = bundle.entry;
  const listIndexes = entries.flatMap((e, i) => (e.resource.resourceType === 'List' ? [i] : []));
  if (listIndexes.length !== 1)
    throw invalid('The bundle must hold exactly one SubmissionSet List', 'Bundle.entry');
  const listIndex = listIndexes[0] as number;
  const list = readList(entries[listIndex]?.resource, `Bundle.entry[${listIndex}].resource`, o.testOids);

  const roles: EntryRole[] = entries.map(() => ({ kind: 'List' }));
  const binaryUsers = new Map<number, number>();
  const documents: PlannedDocument[] = [];
  for (const [i, entry] of entries.entries()) {
    if (entry.resource.resourceType !== 'DocumentReference') continue;
    const prefix = `Bundle.entry[${i}].resource`;
    const parsed = readDocumentReference(entry.resource, {
      prefix,
      baseUrl: o.baseUrl,
      testOids: o.testOids,
    });
    let content: Buffer;
    if (parsed.source.kind === 'inline') {
      content = decodeBase64(parsed.source.data, parsed.source.field);
    } else {
      const b = fullUrls.get(parsed.source.url);
      if (b === undefined || entries[b]?.resource.resourceType !== 'Binary') {
        throw invalid(
          `attachment.url ${parsed.source.url} does not point at a Binary entry of the bundle`,
          parsed.source.field,
        );
      }
      if (binaryUsers.has(b))
        throw invalid('Two DocumentReferences point at the same Binary', parsed.source.field);
      binaryUsers.set(b, documents.length);
      const binPrefix = `Bundle.entry[${b}].resource`;
      const binary = parseShape(binarySchema, entries[b]?.resource, binPrefix);
      if (essence(binary.contentType) !== essence(parsed.document.mediaType)) {
        throw invalid(
          `Binary.contentType ${binary.contentType} differs from the DocumentReference's ${parsed.document.mediaType}`,
          `${binPrefix}.contentType`,
        );
      }
      content = decodeBase64(binary.data, `${binPrefix}.data`);
      roles[b] = { kind: 'Binary', doc: documents.length };
    }
    verifyDeclaredContent(parsed, content);
    roles[i] = { kind: 'DocumentReference', doc: documents.length };
    documents.push({ entryIndex: i, parsed, content });
  }
  if (documents.length === 0) throw invalid('The bundle holds no DocumentReference', 'Bundle.entry');
  for (const [i, entry] of entries.entries()) {
    if (entry.resource.resourceType === 'Binary' && !binaryUsers.has(i)) {
      throw invalid('No DocumentReference points at this Binary', `Bundle.entry[${i}].fullUrl`);
    }
  }
  const listed = new Set<number>();
  for (const item of list.items) {
    const target = item.reference ? fullUrls.get(item.reference) : undefined;
    if (target === undefined || entries[target]?.resource.resourceType !== 'DocumentReference') {
      throw invalid(
        'List.entry.item must reference a DocumentReference entry of the bundle (by fullUrl)',
        item.field,
      );
    }
    listed.add(target);
  }
  for (const d of documents) {
    if (!listed.has(d.entryIndex)) {
      throw invalid(
        'The SubmissionSet List does not list this DocumentReference',
        `Bundle.entry[${d.entryIndex}].fullUrl`,
      );
    }
  }
  return {
    subject: list.subject,
    subjectField: `Bundle.entry[${listIndex}].resource.subject`,
    submissionSet: { masterIdentifier: list.masterIdentifier, sourceId: list.sourceId },
    documents,
    roles,
  };
}

/** Where service errors about a document should point in the bundle. */
function fieldMap(plan: TransactionPlan, d: PlannedDocument): Record<string, string> {
  const p = d.parsed.document.fieldPrefix;
  const binary = plan.roles.findIndex((r) => r.kind === 'Binary' && plan.documents[r.doc] === d);
  const data = binary >= 0 ? `Bundle.entry[${binary}].resource.data` : `${p}.content[0].attachment.data`;
  return {
    [`${p}.content`]: data,
    [`${p}.contentType`]: `${p}.content[0].attachment.contentType`,
    [`${p}.date`]: `${p}.context.period.start`,
  };
}

/**
 * ITI-65: validates, resolves the patient, stores the submission, answers the transaction-response.
 *
 * @example const response = await provideDocumentBundle(ctx, actor, body);
 */
export async function provideDocumentBundle(
  ctx: Ctx,
  actor: ProfessionalActor,
  body: unknown,
): Promise<FhirResource> {
  // The ANS Mesures de santé device bundle (a Device and its Observations) goes to the measurements.
  if (isObservationBundle(body)) return provideObservationBundle(ctx, actor, body);
  const testOids = ctx.config.testInsOids;
  const plan = readTransaction(body, { baseUrl: ctx.config.baseUrl, testOids });
  const { patient, warnings } = await resolvePatientByIns(ctx, plan.subject, plan.subjectField);
  for (const d of plan.documents) {
    await assertSamePatient(ctx, patient, d.parsed.subject, `${d.parsed.document.fieldPrefix}.subject`);
  }
  const documents: IncomingDocument[] = plan.documents.map((d) => ({
    ...d.parsed.document,
    content: d.content,
  }));
  let result: IngestResult;
  try {
    result = await ingestSubmission(ctx, actor, { patient, submissionSet: plan.submissionSet, documents });
  } catch (err) {
    const field = err instanceof AppError ? err.field : undefined;
    const d = field
      ? plan.documents.find((x) => field.startsWith(`${x.parsed.document.fieldPrefix}.`))
      : undefined;
    throw d ? remapField(err, fieldMap(plan, d)) : err;
  }
  return transactionResponse(plan, result, [...warnings, ...result.warnings, ...authorWarnings(plan, actor)]);
}

async function assertSamePatient(ctx: Ctx, patient: Patient, ins: InsRef, field: string): Promise<void> {
  const resolved = await resolvePatientByIns(ctx, ins, field);
  if (resolved.patient.id !== patient.id) {
    throw invalid('Every document of a submission must be about the SubmissionSet patient', field);
  }
}

function authorWarnings(plan: TransactionPlan, actor: ProfessionalActor): string[] {
  return plan.documents.flatMap((d) =>
    d.parsed.declaredAuthors
      .filter((a) => a.rpps && a.rpps !== actor.rpps)
      .map(
        (a) =>
          `${d.parsed.document.fieldPrefix}.author names RPPS ${a.rpps}; the document is filed under the authenticated professional and the declared author is kept`,
      ),
  );
}

function transactionResponse(plan: TransactionPlan, result: IngestResult, warnings: string[]): FhirResource {
  const stored = result.documents;
  // The set existed already when every document is a replay filed in it.
  const setReplayed = stored.every((d) => !d.created && d.meta.submissionSetId === result.submissionSetId);
  const outcome = warnings.length
    ? {
        outcome: {
          resourceType: 'OperationOutcome',
          issue: warnings.map((w) => ({ severity: 'warning', code: 'informational', diagnostics: w })),
        },
      }
    : {};
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    type: 'transaction-response',
    entry: plan.roles.map((role) => {
      if (role.kind === 'List') {
        return {
          response: {
            status: setReplayed ? '200 OK' : '201 Created',
            location: `List/${result.submissionSetId}`,
            ...outcome,
          },
        };
      }
      const doc = stored[role.doc];
      if (!doc) throw new Error('ingest result does not match the plan');
      const status = doc.created ? '201 Created' : '200 OK';
      if (role.kind === 'DocumentReference') {
        return {
          response: {
            status,
            location: `DocumentReference/${doc.meta.id}/_history/1`,
            lastModified: doc.meta.updatedAt,
          },
        };
      }
      return { response: { status, location: `Binary/${doc.meta.id}` } };
    }),
  };
}
