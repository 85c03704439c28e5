import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { synthesisBundle } from '../../fhir/ips.ts';
import { ctxOf, recordActor } from '../../http/request-context.ts';
import { createSynthesisDocument, SYNTHESIS_SECTIONS, type SynthesisSection } from './synthesis.service.ts';

const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});
const sectionEnum = z.enum(SYNTHESIS_SECTIONS as [SynthesisSection, ...SynthesisSection[]]);

/** The synthesis of the person's structured data: a PDF saved in the vault, or an IPS-like FHIR Bundle. */
export const synthesisRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/synthesis',
    {
      schema: {
        tags: ['synthesis'],
        summary:
          'Save a synthesis PDF of the chosen sections into the documents (category profile-synthesis)',
        description:
          'Profile sections, the latest measurement of each type and vaccinations, as the actor may read them; sections left out for lack of access are listed in `omitted`. This PDF is how professionals see patient-entered data.',
        body: z.strictObject({
          sections: z.array(sectionEnum).min(1).max(SYNTHESIS_SECTIONS.length),
          title: z.string().trim().min(1).max(200).optional(),
        }),
        response: {
          201: z.object({
            documentId: z.string(),
            title: z.string(),
            category: z.string(),
            sections: z.array(sectionEnum),
            omitted: z.array(sectionEnum),
          }),
          400: apiError,
          401: apiError,
          404: apiError,
        },
      },
    },
    async (request, reply) => {
      const { actor, patientId } = await recordActor(request);
      const { document, sections, omitted } = await createSynthesisDocument(
        ctxOf(request),
        actor,
        patientId,
        {
          sections: request.body.sections,
          ...(request.body.title ? { title: request.body.title } : {}),
        },
      );
      return reply.code(201).send({
        documentId: document.id,
        title: document.title,
        category: document.category,
        sections,
        omitted,
      });
    },
  );

  app.get(
    '/synthesis/fhir',
    {
      schema: {
        tags: ['synthesis'],
        summary: 'The synthesis as a FHIR document Bundle (International Patient Summary style)',
        response: { 200: z.looseObject({ resourceType: z.literal('Bundle') }), 401: apiError, 404: apiError },
      },
    },
    async (request, reply) => {
      const { actor, patientId } = await recordActor(request);
      const bundle = await synthesisBundle(ctxOf(request), actor, patientId);
      return reply.type('application/fhir+json; charset=utf-8').send(bundle as { resourceType: 'Bundle' });
    },
  );
};
