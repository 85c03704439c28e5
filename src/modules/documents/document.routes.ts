import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, invalid } from '../../errors.ts';
import { ctxOf, recordActor } from '../../http/request-context.ts';
import { getPatient } from '../identity/index.ts';
import type { DocumentMeta } from './document.ts';
import { PATIENT_MAX_BYTES } from './document.ts';
import {
  deleteDocument,
  downloadDocument,
  getDocument,
  searchDocuments,
  setReadState,
  updateDocumentMetadata,
} from './document.service.ts';
import { ingestSubmission } from './ingest.ts';
import { VAULT_CATEGORIES } from './nomenclature.ts';

/** The patient's JSON API over their vault. Thin: parse, call the service, present. */

const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

export const documentSchema = z.object({
  id: z.string(),
  title: z.string(),
  category: z.string(),
  classCode: z.string().nullable(),
  type: z.object({ system: z.string(), code: z.string(), display: z.string().nullable() }).nullable(),
  date: z.string().describe('Clinical date of the document (ISO 8601)'),
  receivedAt: z.string(),
  updatedAt: z.string(),
  source: z.enum(['professional', 'patient']),
  author: z.object({ kind: z.enum(['professional', 'patient']), display: z.string() }),
  status: z.enum(['current', 'superseded']),
  mediaType: z.string(),
  size: z.number(),
  sha256: z.string(),
  read: z.boolean(),
  editable: z.boolean().describe('True for the patient’s own uploads'),
  replacesId: z.string().nullable(),
  contentUrl: z.string(),
});

export function presentDocument(meta: DocumentMeta): z.infer<typeof documentSchema> {
  return {
    id: meta.id,
    title: meta.title,
    category: meta.category,
    classCode: meta.classCode,
    type: meta.type,
    date: meta.documentDate,
    receivedAt: meta.createdAt,
    updatedAt: meta.updatedAt,
    source: meta.source,
    author: { kind: meta.author.kind, display: meta.author.display },
    status: meta.status,
    mediaType: meta.mediaType,
    size: meta.size,
    sha256: meta.sha256,
    read: meta.readAt !== null,
    editable: meta.source === 'patient',
    replacesId: meta.replacesId,
    contentUrl: `/api/documents/${meta.id}/content`,
  };
}

const categoryList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean),
  )
  .optional();
const isoDate = z.iso.date().or(z.iso.datetime({ offset: true }));

const listQuery = z.object({
  category: categoryList.describe(
    `Comma-separated categories: ${VAULT_CATEGORIES.map((c) => c.slug).join(', ')}`,
  ),
  from: isoDate.optional().describe('Clinical date, inclusive'),
  to: isoDate.optional().describe('Clinical date, exclusive'),
  author: z.enum(['me', 'professionals']).optional(),
  read: z.enum(['true', 'false']).optional(),
  status: z.enum(['current', 'superseded', 'all']).default('current'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

const idParams = z.object({ id: z.string().max(64) });

export const documentRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/documents',
    {
      schema: {
        tags: ['documents'],
        summary: 'List my documents',
        querystring: listQuery,
        response: {
          200: z.object({ items: z.array(documentSchema), nextCursor: z.string().nullable() }),
          401: apiError,
        },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      const q = request.query;
      const page = await searchDocuments(ctxOf(request), actor, patientId, {
        ...(q.category ? { category: q.category } : {}),
        ...(q.from ? { dateFrom: new Date(q.from) } : {}),
        ...(q.to ? { dateTo: new Date(q.to) } : {}),
        ...(q.author ? { source: q.author === 'me' ? 'patient' : 'professional' } : {}),
        ...(q.read ? { read: q.read === 'true' } : {}),
        ...(q.status !== 'all' ? { status: [q.status] } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
        limit: q.limit,
      });
      return { items: page.items.map(presentDocument), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/documents',
    {
      schema: {
        tags: ['documents'],
        summary: 'Upload a document (multipart/form-data: file, and optional title, date, category)',
        description: `PDF, TXT, RTF, JPEG, PNG or TIFF, at most ${PATIENT_MAX_BYTES / 1024 / 1024} MB; the real file type must match the declared one. An Idempotency-Key header makes retries safe.`,
        consumes: ['multipart/form-data'],
        response: {
          200: documentSchema,
          201: documentSchema,
          400: apiError,
          401: apiError,
          413: apiError,
          415: apiError,
        },
      },
    },
    async (request, reply) => {
      const { actor, patientId } = await recordActor(request);
      if (!request.isMultipart())
        throw new AppError('unsupported_media_type', 'Send the document as multipart/form-data');
      const fields: Record<string, string> = {};
      let file: { mediaType: string; filename: string; content: Buffer } | undefined;
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          if (file) throw invalid('Send one file per upload', 'file');
          file = { mediaType: part.mimetype, filename: part.filename, content: await part.toBuffer() };
        } else if (typeof part.value === 'string') {
          fields[part.fieldname] = part.value;
        }
      }
      if (!file) throw invalid('The file is missing', 'file');
      const key = request.headers['idempotency-key'];
      if (key !== undefined && (typeof key !== 'string' || !/^[A-Za-z0-9_-]{8,128}$/.test(key))) {
        throw invalid('Idempotency-Key must be 8 to 128 characters of [A-Za-z0-9_-]', 'Idempotency-Key');
      }
      const ctx = ctxOf(request);
      const patient = await getPatient(ctx, patientId);
      // Another person's record that does not exist: the gate's answer for any record one may not act on.
      if (!patient)
        throw new AppError(actor.kind === 'patient' ? 'unauthenticated' : 'not_found', 'Not found');
      if (fields.category && !VAULT_CATEGORIES.some((c) => c.slug === fields.category))
        throw invalid('Unknown category', 'category');
      const date = fields.date;
      if (date !== undefined && !isoDate.safeParse(date).success)
        throw invalid('date must be an ISO 8601 date', 'date');
      const title =
        (fields.title ?? file.filename.replace(/\.[A-Za-z0-9]{1,5}$/, '')).trim().slice(0, 500) || 'Document';
      const result = await ingestSubmission(ctx, actor, {
        patient,
        documents: [
          {
            masterIdentifier: key
              ? `urn:carnet:upload:${patientId}:${key}`
              : `urn:uuid:${crypto.randomUUID()}`,
            mediaType: file.mediaType,
            content: file.content,
            title,
            category: fields.category ?? 'other',
            ...(date ? { documentDate: date } : {}),
            extra: { filename: file.filename.slice(0, 255) },
            fieldPrefix: 'file',
          },
        ],
      });
      const doc = result.documents[0];
      if (!doc) throw new AppError('internal', 'upload produced no document');
      return reply.status(doc.created ? 201 : 200).send(presentDocument(doc.meta));
    },
  );

  app.get(
    '/documents/:id',
    {
      schema: {
        tags: ['documents'],
        summary: 'A document’s metadata',
        params: idParams,
        response: { 200: documentSchema, 404: apiError },
      },
    },
    async (request) =>
      presentDocument(
        await getDocument(ctxOf(request), (await recordActor(request)).actor, request.params.id),
      ),
  );

  app.get(
    '/documents/:id/content',
    {
      schema: {
        tags: ['documents'],
        summary: 'Download a document (exact bytes); marks it read',
        params: idParams,
      },
    },
    async (request, reply) => {
      const { meta, content } = await downloadDocument(
        ctxOf(request),
        (await recordActor(request)).actor,
        request.params.id,
      );
      return reply
        .header('Content-Type', meta.mediaType)
        .header('Content-Disposition', `attachment; filename="${meta.id}"`)
        .header('Content-Security-Policy', "default-src 'none'; sandbox")
        .header('Cache-Control', 'private, no-store')
        .send(content);
    },
  );

  app.patch(
    '/documents/:id',
    {
      schema: {
        tags: ['documents'],
        summary: 'Edit the title, date or category of one of my own documents',
        params: idParams,
        body: z
          .object({
            title: z.string().min(1).max(500).optional(),
            date: isoDate.optional(),
            category: z.string().optional(),
          })
          .strict(),
        response: { 200: documentSchema, 400: apiError, 403: apiError, 404: apiError },
      },
    },
    async (request) => {
      const { title, date, category } = request.body;
      const meta = await updateDocumentMetadata(
        ctxOf(request),
        (await recordActor(request)).actor,
        request.params.id,
        {
          ...(title !== undefined ? { title } : {}),
          ...(date !== undefined ? { documentDate: date } : {}),
          ...(category !== undefined ? { category } : {}),
        },
      );
      return presentDocument(meta);
    },
  );

  app.put(
    '/documents/:id/read-state',
    {
      schema: {
        tags: ['documents'],
        summary: 'Mark a document read or unread',
        params: idParams,
        body: z.object({ read: z.boolean() }).strict(),
        response: { 200: documentSchema, 404: apiError },
      },
    },
    async (request) =>
      presentDocument(
        await setReadState(
          ctxOf(request),
          (await recordActor(request)).actor,
          request.params.id,
          request.body.read,
        ),
      ),
  );

  app.delete(
    '/documents/:id',
    {
      schema: {
        tags: ['documents'],
        summary: 'Delete one of my own documents (documents from professionals cannot be deleted)',
        params: idParams,
        response: { 204: z.null(), 403: apiError, 404: apiError },
      },
    },
    async (request, reply) => {
      await deleteDocument(ctxOf(request), (await recordActor(request)).actor, request.params.id);
      return reply.status(204).send(null);
    },
  );
};
