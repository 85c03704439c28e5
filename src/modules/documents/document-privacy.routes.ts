import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalid } from '../../errors.ts';
import { ctxOf, recordActor } from '../../http/request-context.ts';
import { documentSchema, presentDocument } from './document.routes.ts';
import { previewRecordAs, setDocumentMasked, shareDocument } from './document-privacy.ts';

const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});
const idParams = z.object({ id: z.string().max(64) });

/** Masking, per-document sharing and "see my record as Dr X would". */
export const documentPrivacyRoutes: FastifyPluginAsyncZod = async (app) => {
  app.put(
    '/documents/:id/masked',
    {
      schema: {
        tags: ['privacy'],
        summary:
          'Hide a document from professionals (its author, my GP and administrators still see it), show it (even under mask-by-default), or null to follow mask-by-default',
        params: idParams,
        body: z.object({ masked: z.boolean().nullable() }).strict(),
        response: { 200: documentSchema.extend({ masked: z.boolean().nullable() }), 404: apiError },
      },
    },
    async (request) => {
      const meta = await setDocumentMasked(
        ctxOf(request),
        (await recordActor(request)).actor,
        request.params.id,
        request.body.masked,
      );
      return { ...presentDocument(meta), masked: meta.masked };
    },
  );

  app.post(
    '/documents/:id/shares',
    {
      schema: {
        tags: ['privacy'],
        summary: 'Share this document with one professional until a date (even while it is masked)',
        params: idParams,
        body: z
          .object({ rpps: z.string().regex(/^8?\d{11}$/), until: z.iso.datetime({ offset: true }) })
          .strict(),
        response: {
          201: z.object({ id: z.string(), documentId: z.string().nullable(), endsAt: z.string().nullable() }),
          400: apiError,
          409: apiError,
        },
      },
    },
    async (request, reply) => {
      const { actor, patientId } = await recordActor(request);
      const rule = await shareDocument(ctxOf(request), actor, patientId, {
        documentId: request.params.id,
        rpps: request.body.rpps,
        until: request.body.until,
      });
      return reply.status(201).send({ id: rule.id, documentId: rule.documentId, endsAt: rule.endsAt });
    },
  );

  app.get(
    '/privacy/preview',
    {
      schema: {
        tags: ['privacy'],
        summary: 'See my record as a professional (by RPPS) or a profession (as a care-team member) would',
        querystring: z.object({
          rpps: z
            .string()
            .regex(/^\d{11}$/)
            .optional(),
          profession: z.string().max(40).optional(),
        }),
        response: {
          200: z.object({
            viewer: z.object({
              display: z.string(),
              professionCode: z.string(),
              rpps: z.string().nullable(),
            }),
            items: z.array(
              z.object({
                documentId: z.string(),
                title: z.string(),
                category: z.string(),
                visible: z.boolean(),
                basis: z.string().nullable(),
                reason: z.string().nullable(),
              }),
            ),
          }),
          400: apiError,
        },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      const { rpps, profession } = request.query;
      if ((rpps ? 1 : 0) + (profession ? 1 : 0) !== 1)
        throw invalid('Give exactly one of rpps or profession', 'rpps');
      return previewRecordAs(
        ctxOf(request),
        actor,
        patientId,
        rpps ? { rpps } : { professionCode: profession as string },
      );
    },
  );
};
