import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ctxOf, patientActor, recordActor } from '../../http/request-context.ts';
import { caregiverAttestation } from './attestation.ts';
import { CAREGIVER_SCOPES } from './family.ts';
import {
  acceptInvitation,
  inviteCaregiver,
  inviteLegalRepresentative,
  listInvitations,
  refuseInvitation,
  revokeCaregiver,
} from './invitations.service.ts';
import { listProfiles } from './profiles.service.ts';

/** Profiles one may act in, invitations of representatives and caregivers (under /api). Thin. */

const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

const person = z.object({ id: z.string(), display: z.string() });
const invitationSchema = z.object({
  id: z.string(),
  role: z.enum(['legal_representative', 'caregiver']),
  status: z.enum(['pending', 'accepted', 'refused', 'expired', 'revoked']),
  person: person.describe('The person concerned: the child, or the person helped'),
  invitee: person,
  invitedBy: person,
  scopes: z.array(z.string()),
  endsAt: z.string().nullable(),
  expiresAt: z.string().describe('Until when a pending invitation may be answered'),
  createdAt: z.string(),
  respondedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable().describe("'person' or 'helper'"),
});

const profileSchema = z.object({
  patientId: z.string().describe('Send it as the X-Carnet-Profile header to act in this profile'),
  self: z.boolean(),
  display: z.string(),
  given: z.string(),
  family: z.string(),
  birthDate: z.string(),
  kind: z.enum(['self', 'child', 'protected_adult', 'assisted_person']),
  role: z.enum(['self', 'legal_representative', 'guardian', 'caregiver']),
  scopes: z.array(z.string()),
  endsAt: z.string().nullable(),
});

const invitee = {
  matricule: z.string().max(32).optional().describe('INS matricule (NIR or NIA) of the person invited'),
  email: z.email().max(254).optional().describe('Or the e-mail address of their space'),
};
const idParams = z.object({ id: z.string().max(64) });

export const familyRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/profiles',
    {
      schema: {
        tags: ['family'],
        summary: 'My profile and the people I may act for (children, protected adults, people I help)',
        response: { 200: z.object({ items: z.array(profileSchema) }), 401: apiError },
      },
    },
    async (request) => ({ items: await listProfiles(ctxOf(request), await patientActor(request)) }),
  );

  app.post(
    '/profiles/:childId/invitations',
    {
      schema: {
        tags: ['family'],
        summary: "Invite the child's second legal representative (who must hold an active space)",
        params: z.object({ childId: z.string().max(64) }),
        body: z.object({ role: z.literal('legal_representative'), ...invitee }).strict(),
        response: {
          200: invitationSchema,
          201: invitationSchema,
          400: apiError,
          403: apiError,
          404: apiError,
          409: apiError,
        },
      },
    },
    async (request, reply) => {
      const { role: _role, ...who } = request.body;
      const result = await inviteLegalRepresentative(
        ctxOf(request),
        await patientActor(request),
        request.params.childId.toLowerCase(),
        who,
      );
      return reply.status(result.created ? 201 : 200).send(result.invitation);
    },
  );

  app.post(
    '/caregivers/invitations',
    {
      schema: {
        tags: ['family'],
        summary: 'Invite a caregiver for the current profile, with chosen scopes and an optional end date',
        description:
          'At most 3 caregivers per person (including invitations awaiting an answer), at most 5 people per caregiver. The caregiver must hold an active space. Re-sending the same invitation answers the pending one (200).',
        body: z
          .object({
            ...invitee,
            scopes: z
              .array(z.string().max(32))
              .min(1)
              .max(CAREGIVER_SCOPES.length + 1),
            endsAt: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
          })
          .strict(),
        response: {
          200: invitationSchema,
          201: invitationSchema,
          400: apiError,
          404: apiError,
          409: apiError,
        },
      },
    },
    async (request, reply) => {
      const { actor, patientId, self } = await recordActor(request);
      const result = await inviteCaregiver(ctxOf(request), actor, patientId, self, request.body);
      return reply.status(result.created ? 201 : 200).send(result.invitation);
    },
  );

  app.get(
    '/invitations',
    {
      schema: {
        tags: ['family'],
        summary: 'Invitations I received, and those I sent or that concern my record',
        response: {
          200: z.object({ received: z.array(invitationSchema), sent: z.array(invitationSchema) }),
          401: apiError,
        },
      },
    },
    async (request) => listInvitations(ctxOf(request), await patientActor(request)),
  );

  app.post(
    '/invitations/:id/accept',
    {
      schema: {
        tags: ['family'],
        summary: 'Accept an invitation addressed to me',
        params: idParams,
        response: { 200: invitationSchema, 404: apiError, 409: apiError },
      },
    },
    async (request) => acceptInvitation(ctxOf(request), await patientActor(request), request.params.id),
  );

  app.post(
    '/invitations/:id/refuse',
    {
      schema: {
        tags: ['family'],
        summary: 'Refuse an invitation addressed to me',
        params: idParams,
        response: { 200: invitationSchema, 404: apiError, 409: apiError },
      },
    },
    async (request) => refuseInvitation(ctxOf(request), await patientActor(request), request.params.id),
  );

  app.delete(
    '/caregivers/:id',
    {
      schema: {
        tags: ['family'],
        summary: "End a caregiver's help (or cancel the invitation), from either side",
        description:
          'The person (or their legal representative in their profile) or the caregiver; takes effect on the next request.',
        params: idParams,
        response: { 204: z.null(), 404: apiError },
      },
    },
    async (request, reply) => {
      const { actor, patientId, self } = await recordActor(request);
      await revokeCaregiver(ctxOf(request), actor, patientId, self, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/caregivers/:id/attestation',
    {
      schema: {
        tags: ['family'],
        summary: "The caregiver's access attestation (PDF), for either side",
        params: idParams,
        querystring: z.object({ lang: z.enum(['fr', 'en']).default('fr') }),
      },
    },
    async (request, reply) => {
      const { actor, patientId, self } = await recordActor(request);
      const { pdf, reference } = await caregiverAttestation(
        ctxOf(request),
        actor,
        patientId,
        self,
        request.params.id,
        request.query.lang,
      );
      return reply
        .header('Content-Type', 'application/pdf')
        .header('Content-Disposition', `attachment; filename="attestation-aidant-${reference}.pdf"`)
        .header('Cache-Control', 'private, no-store')
        .send(pdf);
    },
  );
};
