import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ctxOf, patientActor, recordActor } from '../../http/request-context.ts';
import { professionByCode } from '../identity/index.ts';
import { accessMatrix } from './matrix.ts';
import { addAccessRule, getPrivacy, revokeAccessRule, updatePrivacySettings } from './privacy.service.ts';

const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

const settingsSchema = z.object({
  maskByDefault: z.boolean(),
  samuAccess: z.boolean(),
  breakGlassAccess: z.boolean(),
  emergencyIncludesMasked: z.boolean(),
});

const ruleSchema = z.object({
  id: z.string(),
  kind: z.enum(['care_team', 'consent', 'role', 'block', 'share', 'emergency', 'representation', 'app']),
  role: z.string().nullable(),
  professional: z
    .object({ id: z.string(), rpps: z.string(), display: z.string(), professionCode: z.string() })
    .nullable(),
  documentId: z.string().nullable(),
  channel: z.string().nullable(),
  reason: z.string().nullable(),
  scopes: z.array(z.string()),
  startsAt: z.string(),
  endsAt: z.string().nullable(),
});

const rpps = z.string().regex(/^8?\d{11}$/, 'an RPPS number (11 digits)');
const newRule = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('care_team'), rpps }).strict(),
  z
    .object({
      kind: z.literal('consent'),
      rpps,
      channel: z.enum(['in_person', 'phone', 'online', 'card']),
      until: z.iso.datetime({ offset: true }).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('role'),
      rpps,
      role: z.enum(['gp', 'administrator', 'referent_midwife', 'correspondent_pharmacist']),
    })
    .strict(),
  z.object({ kind: z.literal('block'), rpps }).strict(),
]);

/** Who can see what: the person's settings and rules, and the profession matrix. */
export const privacyRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/privacy',
    {
      schema: {
        tags: ['privacy'],
        summary:
          'My privacy settings and the rules on my record (care team, consents, roles, blocks, shares, emergency accesses)',
        response: { 200: z.object({ settings: settingsSchema, rules: z.array(ruleSchema) }), 401: apiError },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      return getPrivacy(ctxOf(request), actor, patientId);
    },
  );

  app.put(
    '/privacy/settings',
    {
      schema: {
        tags: ['privacy'],
        summary: 'Change mask-by-default and the three emergency switches',
        body: settingsSchema.partial().strict(),
        response: { 200: settingsSchema, 400: apiError },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      return updatePrivacySettings(ctxOf(request), actor, patientId, request.body);
    },
  );

  app.post(
    '/privacy/rules',
    {
      schema: {
        tags: ['privacy'],
        summary:
          'Add a care-team member, a consent, a role (GP, administrator, referent midwife, correspondent pharmacist) or a block',
        body: newRule,
        response: { 201: ruleSchema, 400: apiError, 409: apiError },
      },
    },
    async (request, reply) => {
      const { actor, patientId } = await recordActor(request);
      const rule = await addAccessRule(ctxOf(request), actor, patientId, request.body);
      return reply.status(201).send(rule);
    },
  );

  app.delete(
    '/privacy/rules/:id',
    {
      schema: {
        tags: ['privacy'],
        summary: 'End a rule (revoke a consent, lift a block, stop a share or an emergency access)',
        params: z.object({ id: z.string().max(64) }),
        response: { 204: z.null(), 404: apiError },
      },
    },
    async (request, reply) => {
      const { actor, patientId } = await recordActor(request);
      await revokeAccessRule(ctxOf(request), actor, patientId, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/privacy/matrix',
    {
      schema: {
        tags: ['privacy'],
        summary:
          'What each profession may read, by document class (and type exceptions), with the source status of each cell',
        response: {
          200: z.object({
            version: z.string(),
            completeness: z.string(),
            professions: z.array(
              z.object({
                code: z.string(),
                label: z.string(),
                classes: z.record(
                  z.string(),
                  z.object({ access: z.enum(['allow', 'deny']), status: z.string() }),
                ),
                types: z.record(
                  z.string(),
                  z.object({ access: z.enum(['allow', 'deny']), status: z.string() }),
                ),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      await patientActor(request);
      const m = accessMatrix();
      return {
        version: m.version,
        completeness: m.completeness,
        professions: m.professions.map((p) => ({
          code: p.code,
          label: professionByCode(p.code)?.label ?? p.label,
          classes: p.classes,
          types: p.types,
        })),
      };
    },
  );
};
