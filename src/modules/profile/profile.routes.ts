import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ctxOf, recordActor } from '../../http/request-context.ts';
import type { ProfileChange, ProfileEntry, ProfileSection } from './profile.ts';
import {
  addEntry,
  deleteEntry,
  entryHistory,
  readProfile,
  setNotConcerned,
  updateEntry,
} from './profile.service.ts';
import { parseSection, SECTIONS } from './sections.ts';

/** The medical profile (under /api). Thin: parse, call the service, present. */

const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

const authorSchema = z.object({
  kind: z.enum(['patient', 'representative', 'app', 'professional', 'import']),
  id: z.string().nullable(),
  display: z.string(),
});

const entrySchema = z.object({
  id: z.string(),
  section: z.string(),
  fields: z.record(z.string(), z.unknown()).describe("The section's structured fields"),
  status: z.enum(['current', 'replaced', 'deleted']),
  author: authorSchema,
  source: z.string().nullable(),
  externalId: z.string().nullable(),
  replacedBy: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  locked: z.boolean().describe('Added by a professional or imported: the patient may not change it'),
});

const sectionSchema = z.object({
  section: z.string(),
  kind: z.enum(['list', 'single']),
  state: z.enum(['unknown', 'not_concerned', 'entries']),
  entries: z.array(entrySchema),
  declared: z.object({ at: z.string(), author: authorSchema }).nullable(),
});

const changeSchema = z.object({
  id: z.string(),
  entryId: z.string().nullable(),
  section: z.string(),
  change: z.enum(['created', 'updated', 'deleted', 'replaced', 'not_concerned', 'concerned']),
  at: z.string(),
  author: authorSchema,
  changed: z.array(z.string()),
  fields: z.record(z.string(), z.unknown()).nullable(),
});

const present = (e: ProfileEntry): z.infer<typeof entrySchema> => ({ ...e });
const presentSection = (s: ProfileSection): z.infer<typeof sectionSchema> => ({
  ...s,
  entries: s.entries.map(present),
});
const presentChange = (c: ProfileChange): z.infer<typeof changeSchema> => ({ ...c });

const sectionParams = z.object({
  section: z
    .string()
    .max(40)
    .describe(`One of ${SECTIONS.join(', ')}`),
});
const idParams = z.object({ id: z.string().max(64) });
const fieldsBody = z.strictObject({
  fields: z.record(z.string(), z.unknown()).describe("The section's structured fields"),
});

export const profileRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/profile',
    {
      schema: {
        tags: ['profile'],
        summary: 'My medical profile: every section with its state and current entries',
        response: { 200: z.object({ sections: z.array(sectionSchema) }), 401: apiError, 404: apiError },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      const sections = await readProfile(ctxOf(request), actor, patientId);
      return { sections: sections.map(presentSection) };
    },
  );

  app.get(
    '/profile/:section',
    {
      schema: {
        tags: ['profile'],
        summary: 'One section of my medical profile',
        params: sectionParams,
        response: { 200: sectionSchema, 400: apiError, 401: apiError, 404: apiError },
      },
    },
    async (request) => {
      const section = parseSection(request.params.section);
      const { actor, patientId } = await recordActor(request);
      const [found] = await readProfile(ctxOf(request), actor, patientId, section);
      if (!found) throw new Error('section missing');
      return presentSection(found);
    },
  );

  app.post(
    '/profile/:section/entries',
    {
      schema: {
        tags: ['profile'],
        summary: 'Add an entry (a single-value section: replace its value)',
        description:
          'Send an Idempotency-Key header to make the request safe to re-send: the same key returns the same entry.',
        params: sectionParams,
        body: fieldsBody,
        response: {
          201: entrySchema,
          400: apiError,
          401: apiError,
          403: apiError,
          404: apiError,
          409: apiError,
        },
      },
    },
    async (request, reply) => {
      const section = parseSection(request.params.section);
      const { actor, patientId } = await recordActor(request);
      const key = request.headers['idempotency-key'];
      const { entry } = await addEntry(ctxOf(request), actor, patientId, section, request.body.fields, {
        ...(typeof key === 'string' ? { idempotencyKey: key } : {}),
      });
      return reply.code(201).send(present(entry));
    },
  );

  app.patch(
    '/profile/entries/:id',
    {
      schema: {
        tags: ['profile'],
        summary: 'Change fields of an entry (null removes an optional field)',
        params: idParams,
        body: fieldsBody,
        response: {
          200: entrySchema,
          400: apiError,
          401: apiError,
          403: apiError,
          404: apiError,
          409: apiError,
        },
      },
    },
    async (request) => {
      const { actor } = await recordActor(request);
      return present(await updateEntry(ctxOf(request), actor, request.params.id, request.body.fields));
    },
  );

  app.delete(
    '/profile/entries/:id',
    {
      schema: {
        tags: ['profile'],
        summary: 'Delete an entry (kept in its history)',
        params: idParams,
        response: { 204: z.null(), 401: apiError, 403: apiError, 404: apiError, 409: apiError },
      },
    },
    async (request, reply) => {
      const { actor } = await recordActor(request);
      await deleteEntry(ctxOf(request), actor, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/profile/:section/state',
    {
      schema: {
        tags: ['profile'],
        summary: 'Declare a list section "not concerned", or take it back',
        params: sectionParams,
        body: z.strictObject({ notConcerned: z.boolean() }),
        response: { 200: sectionSchema, 400: apiError, 401: apiError, 404: apiError, 409: apiError },
      },
    },
    async (request) => {
      const section = parseSection(request.params.section);
      const { actor, patientId } = await recordActor(request);
      return presentSection(
        await setNotConcerned(ctxOf(request), actor, patientId, section, request.body.notConcerned),
      );
    },
  );

  app.get(
    '/profile/entries/:id/history',
    {
      schema: {
        tags: ['profile'],
        summary: 'The history of changes of an entry',
        params: idParams,
        response: {
          200: z.object({ entry: entrySchema, changes: z.array(changeSchema) }),
          401: apiError,
          404: apiError,
        },
      },
    },
    async (request) => {
      const { actor } = await recordActor(request);
      const { entry, changes } = await entryHistory(ctxOf(request), actor, request.params.id);
      return { entry: present(entry), changes: changes.map(presentChange) };
    },
  );
};
