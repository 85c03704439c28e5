/**
 * The DocumentReference interactions behind the routes: ITI-105 simplified publish, read, ITI-67
 * search, and the presentation of stored documents (with their patient's INS and author's RPPS).
 */
import { AppError, invalid } from '../errors.ts';
import type { Ctx } from '../platform/context.ts';
import type { Actor, ProfessionalActor } from '../modules/access/index.ts';
import {
  getDocument,
  ingestSubmission,
  searchDocuments,
  type DocumentMeta,
  type IngestResult,
} from '../modules/documents/index.ts';
import {
  findProfessionalByRpps,
  getPatient,
  listProfessionals,
  resolvePatientByIns,
  type Patient,
} from '../modules/identity/index.ts';
import { decodeBase64, remapField, type FhirResource, type InsRef } from './common.ts';
import { readDocumentReference, verifyDeclaredContent } from './document-reference.fhir.ts';
import { toDocumentReference } from './document-reference.present.ts';
import { CURSOR_PARAM, parseDocumentSearch, type RawQuery } from './search-params.ts';

/**
 * Stored documents as PDSm DocumentReferences (one lookup for the authors, one per patient).
 *
 * @example const [resource] = await presentDocuments(ctx, [meta]);
 */
export async function presentDocuments(
  ctx: Ctx,
  metas: DocumentMeta[],
  known?: Patient,
  knownAuthor?: ProfessionalActor,
): Promise<FhirResource[]> {
  const proIds = [
    ...new Set(metas.flatMap((m) => (m.author.professionalId ? [m.author.professionalId] : []))),
  ];
  // A publisher's own documents need no lookup: the actor carries its RPPS (saves a round trip).
  const rppsById =
    knownAuthor && proIds.every((id) => id === knownAuthor.professionalId)
      ? new Map([[knownAuthor.professionalId, knownAuthor.rpps]])
      : new Map((proIds.length ? await listProfessionals(ctx, proIds) : []).map((p) => [p.id, p.rpps]));
  const patients = new Map<string, InsRef>(known ? [[known.id, known.ins]] : []);
  for (const m of metas) {
    if (patients.has(m.patientId)) continue;
    const patient = await getPatient(ctx, m.patientId);
    if (!patient) throw new AppError('internal', 'A document has no patient');
    patients.set(m.patientId, patient.ins);
  }
  return metas.map((m) =>
    toDocumentReference(m, {
      baseUrl: ctx.config.baseUrl,
      patient: patients.get(m.patientId) as InsRef,
      authorRpps: m.author.professionalId ? (rppsById.get(m.author.professionalId) ?? null) : null,
    }),
  );
}

/**
 * ITI-105: one DocumentReference with its content inline. `created` is false for a replay.
 *
 * @example const { created, resource } = await publishDocumentReference(ctx, actor, body);
 */
export async function publishDocumentReference(
  ctx: Ctx,
  actor: ProfessionalActor,
  body: unknown,
): Promise<{ created: boolean; resource: FhirResource; warnings: string[] }> {
  const p = 'DocumentReference';
  const parsed = readDocumentReference(body, {
    prefix: p,
    baseUrl: ctx.config.baseUrl,
    testOids: ctx.config.testInsOids,
  });
  if (parsed.source.kind !== 'inline') {
    throw invalid(
      'ITI-105 carries the document inline in attachment.data (send a transaction Bundle to use a Binary)',
      parsed.source.field,
    );
  }
  const content = decodeBase64(parsed.source.data, parsed.source.field);
  verifyDeclaredContent(parsed, content);
  const { patient, warnings } = await resolvePatientByIns(ctx, parsed.subject, `${p}.subject`);
  let result: IngestResult;
  try {
    result = await ingestSubmission(ctx, actor, { patient, documents: [{ ...parsed.document, content }] });
  } catch (err) {
    throw remapField(err, {
      [`${p}.content`]: `${p}.content[0].attachment.data`,
      [`${p}.contentType`]: `${p}.content[0].attachment.contentType`,
      [`${p}.date`]: `${p}.context.period.start`,
    });
  }
  const stored = result.documents[0];
  if (!stored) throw new AppError('internal', 'ingestion returned no document');
  const [resource] = await presentDocuments(ctx, [stored.meta], patient, actor);
  return {
    created: stored.created,
    resource: resource as FhirResource,
    warnings: [...warnings, ...result.warnings],
  };
}

/** @example const resource = await readDocumentReferenceById(ctx, actor, id); */
export async function readDocumentReferenceById(ctx: Ctx, actor: Actor, id: string): Promise<FhirResource> {
  const meta = await getDocument(ctx, actor, id);
  const [resource] = await presentDocuments(ctx, [meta]);
  return resource as FhirResource;
}

/**
 * ITI-67: a searchset Bundle of the patient's documents the actor may see, newest first.
 *
 * @example const bundle = await findDocumentReferences(ctx, actor, { 'patient.identifier': '279035121518989' });
 */
export async function findDocumentReferences(ctx: Ctx, actor: Actor, raw: RawQuery): Promise<FhirResource> {
  const search = parseDocumentSearch(raw, { testOids: ctx.config.testInsOids });
  const { patient } = await resolvePatientByIns(ctx, search.patient, 'patient.identifier');
  let authorIds: string[] | undefined;
  if (search.authorRpps) {
    const found = await Promise.all(search.authorRpps.map((rpps) => findProfessionalByRpps(ctx, rpps)));
    authorIds = found.flatMap((p) => (p ? [p.id] : []));
  }
  // Nothing can match: still run (and audit) the search, with a filter that matches no row.
  if (search.empty) authorIds = [];
  let page;
  try {
    page = await searchDocuments(ctx, actor, patient.id, {
      ...search.query,
      ...(authorIds ? { authorProfessionalIds: authorIds } : {}),
    });
  } catch (err) {
    throw remapField(err, { cursor: CURSOR_PARAM });
  }
  const resources = await presentDocuments(ctx, page.items, patient);
  const base = `${ctx.config.baseUrl}/fhir/R4`;
  const link = (params: Array<[string, string]>) =>
    `${base}/DocumentReference?${new URLSearchParams(params).toString()}`;
  const cursor = search.query.cursor;
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    meta: { lastUpdated: ctx.clock.now().toISOString() },
    // Only the first and only page knows the total; otherwise it is left out.
    ...(!cursor && !page.nextCursor ? { total: resources.length } : {}),
    link: [
      { relation: 'self', url: link(cursor ? [...search.params, [CURSOR_PARAM, cursor]] : search.params) },
      ...(page.nextCursor
        ? [{ relation: 'next', url: link([...search.params, [CURSOR_PARAM, page.nextCursor]]) }]
        : []),
    ],
    entry: resources.map((resource) => ({
      fullUrl: `${base}/DocumentReference/${resource.id}`,
      resource,
      search: { mode: 'match' },
    })),
  };
}
