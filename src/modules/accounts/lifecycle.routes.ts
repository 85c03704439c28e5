import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clearSessionCookies, ctxOf, recordActor } from '../../http/request-context.ts';
import { closeSpace, reopenSpace, reopenWithCode } from './closure.ts';
import { opposeSpace, oppositionProof } from './opposition.ts';

const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

const identityFields = {
  matricule: z.string().trim().min(13).max(20).describe('Social security number (NIR/NIA), 15 characters'),
  birthDate: z.iso.date().describe('YYYY-MM-DD'),
};

const spaceState = z.object({
  patientId: z.string(),
  status: z.enum(['pending', 'opposed', 'open', 'suspended', 'closed']),
  closedAt: z.string().nullable(),
  eraseAfter: z.string().nullable(),
  suspensionDeadline: z.string().nullable(),
});

/** Opposition (anonymous), closure, re-opening, erasure request (under /api). */
export const accountRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/opposition',
    {
      schema: {
        tags: ['account'],
        summary:
          'Oppose the creation of one’s space (provisional code, matricule, birth date), within 6 weeks',
        description:
          'Anonymous. Every mismatch gets the same answer (400). Sent again: the same reference. After the window: 409 with the date it closed. Throttled per matricule and per IP (429 with Retry-After).',
        body: z.object({ code: z.string().trim().min(4).max(40), ...identityFields }).strict(),
        response: {
          200: z.object({ reference: z.string(), opposedAt: z.string() }),
          400: apiError,
          409: apiError,
          429: apiError,
        },
      },
    },
    async (request) => opposeSpace(ctxOf(request), request.body, { ip: request.ip }),
  );

  app.post(
    '/opposition/proof',
    {
      schema: {
        tags: ['account'],
        summary: 'Download the PDF proof of an opposition (reference, matricule and birth date)',
        body: z
          .object({
            reference: z.string().trim().min(4).max(40),
            ...identityFields,
            language: z.enum(['fr', 'en']).optional(),
          })
          .strict(),
      },
    },
    async (request, reply) => {
      const { language, ...input } = request.body;
      const pdf = await oppositionProof(ctxOf(request), input, language ?? 'fr', { ip: request.ip });
      return reply
        .header('Content-Type', 'application/pdf')
        .header('Content-Disposition', 'attachment; filename="opposition.pdf"')
        .header('Cache-Control', 'private, no-store')
        .send(pdf);
    },
  );

  app.post(
    '/account/closure',
    {
      schema: {
        tags: ['account'],
        summary: 'Close the space (archived 10 years), or ask for its erasure within 3 months',
        description:
          'The space of the signed-in person (or, with X-Carnet-Profile, of a person they legally represent). Every session is revoked. On a closed space, `eraseNow: true` asks for erasure.',
        body: z.object({ eraseNow: z.boolean().optional() }).strict(),
        response: { 200: spaceState, 401: apiError, 404: apiError, 409: apiError },
      },
    },
    async (request, reply) => {
      const { actor, patientId, self } = await recordActor(request);
      const state = await closeSpace(ctxOf(request), actor, patientId, {
        eraseNow: request.body.eraseNow === true,
      });
      if (patientId === self.patientId) clearSessionCookies(reply);
      return state;
    },
  );

  app.post(
    '/account/reopening',
    {
      schema: {
        tags: ['account'],
        summary: 'Re-open a closed space before its erasure: everything archived is back',
        description:
          'A closed space cannot sign in: send the provisional code of the closure notice with the matricule and birth date (anonymous; every mismatch gets the same 400; throttled per matricule and per IP: 429 with Retry-After). Without them, the signed-in person (a session cookie) re-opens their own space.',
        body: z
          .object({ code: z.string().trim().min(4).max(40), ...identityFields })
          .strict()
          .nullish(),
        response: {
          200: spaceState,
          400: apiError,
          401: apiError,
          403: apiError,
          404: apiError,
          409: apiError,
          429: apiError,
        },
      },
    },
    async (request) => {
      const ctx = ctxOf(request);
      if (request.body) return reopenWithCode(ctx, request.body, { ip: request.ip });
      const { actor, patientId } = await recordActor(request);
      return reopenSpace(ctx, actor, patientId);
    },
  );
};
