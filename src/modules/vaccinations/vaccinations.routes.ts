import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalid } from '../../errors.ts';
import { ctxOf, recordActor } from '../../http/request-context.ts';
import type { Vaccination } from './vaccination.ts';
import {
  deleteVaccination,
  getVaccination,
  listDueVaccinations,
  listVaccinations,
  recordVaccination,
  updateVaccination,
  vaccinationHistory,
} from './vaccination.service.ts';

/** The vaccination record and the due list (under /api). Thin: parse, call the service, present. */

const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});
const isoDay = z.iso.date();
const kind = z.enum(['primary', 'booster', 'catch-up']);

export const vaccinationSchema = z.object({
  id: z.string(),
  status: z.enum(['completed', 'not-done']),
  statusReason: z.string().nullable(),
  product: z.object({ system: z.string().nullable(), code: z.string().nullable(), display: z.string() }),
  targetDiseases: z.array(z.string()),
  date: z.string(),
  lotNumber: z.string().nullable(),
  vaccinator: z.object({ rpps: z.string().nullable(), display: z.string() }).nullable(),
  kind: kind.nullable(),
  doseNumber: z.number().nullable(),
  comment: z.string().nullable(),
  author: z.object({ kind: z.string(), display: z.string() }),
  confirmed: z.object({ at: z.string(), byDisplay: z.string() }).nullable(),
  source: z.string().nullable(),
  version: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
  locked: z.boolean().describe('Added or confirmed by a professional: the patient cannot change it'),
});

function present(v: Vaccination): z.infer<typeof vaccinationSchema> {
  return {
    id: v.id,
    status: v.status,
    statusReason: v.statusReason,
    product: v.product,
    targetDiseases: v.targetDiseases,
    date: v.date,
    lotNumber: v.lotNumber,
    vaccinator: v.vaccinator,
    kind: v.kind,
    doseNumber: v.doseNumber,
    comment: v.comment,
    author: { kind: v.author.kind, display: v.author.display },
    confirmed: v.confirmed ? { at: v.confirmed.at, byDisplay: v.confirmed.byDisplay } : null,
    source: v.source,
    version: v.version,
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
    locked: v.locked,
  };
}

const product = z.object({
  system: z.string().max(500).nullable().optional(),
  code: z.string().max(100).nullable().optional(),
  display: z.string().min(1).max(300),
});
const body = z.object({
  status: z.enum(['completed', 'not-done']).optional(),
  statusReason: z.string().max(500).nullable().optional(),
  product,
  targetDiseases: z.array(z.string().max(40)).max(20).optional(),
  date: isoDay,
  lotNumber: z.string().max(64).nullable().optional(),
  vaccinator: z
    .object({ rpps: z.string().max(20).nullable().optional(), display: z.string().min(1).max(200) })
    .nullable()
    .optional(),
  kind: kind.nullable().optional(),
  doseNumber: z.number().int().min(1).max(20).nullable().optional(),
  comment: z.string().max(2000).nullable().optional(),
});
const patch = body.partial().extend({ version: z.number().int().min(1).optional() });
const idParams = z.object({ id: z.string().max(64) });

/** Drops undefined members (exactOptionalPropertyTypes). */
function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export const vaccinationRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/vaccinations',
    {
      schema: {
        tags: ['vaccinations'],
        summary: 'The vaccination record, newest first',
        querystring: z.object({ from: isoDay.optional(), to: isoDay.optional() }),
        response: { 200: z.object({ items: z.array(vaccinationSchema) }), 401: apiError, 404: apiError },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      const items = await listVaccinations(ctxOf(request), actor, patientId, defined(request.query));
      return { items: items.map(present) };
    },
  );

  app.post(
    '/vaccinations',
    {
      schema: {
        tags: ['vaccinations'],
        summary: 'Record a vaccination (an Idempotency-Key header makes retries safe)',
        body,
        response: {
          200: vaccinationSchema,
          201: vaccinationSchema,
          400: apiError,
          401: apiError,
          404: apiError,
        },
      },
    },
    async (request, reply) => {
      const { actor, patientId } = await recordActor(request);
      const key = request.headers['idempotency-key'];
      if (key !== undefined && (typeof key !== 'string' || !/^[A-Za-z0-9_-]{8,128}$/.test(key))) {
        throw invalid('Idempotency-Key must be 8 to 128 characters of [A-Za-z0-9_-]', 'Idempotency-Key');
      }
      const { created, vaccination } = await recordVaccination(
        ctxOf(request),
        actor,
        patientId,
        defined(request.body),
        key ? { idempotencyKey: key } : {},
      );
      return reply.code(created ? 201 : 200).send(present(vaccination));
    },
  );

  app.get(
    '/vaccinations/due',
    {
      schema: {
        tags: ['vaccinations'],
        summary: 'Due and overdue vaccinations from the calendar in force',
        response: {
          200: z.object({
            calendar: z.object({ version: z.string(), status: z.string() }),
            items: z.array(
              z.object({
                ruleId: z.string(),
                label: z.string(),
                doseNumber: z.number(),
                status: z.enum(['due', 'overdue']),
                dueFrom: z.string(),
                overdueFrom: z.string(),
                mandatory: z.boolean(),
              }),
            ),
          }),
          401: apiError,
          404: apiError,
        },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      return listDueVaccinations(ctxOf(request), actor, patientId);
    },
  );

  app.get(
    '/vaccinations/:id',
    {
      schema: {
        tags: ['vaccinations'],
        summary: 'One vaccination',
        params: idParams,
        response: { 200: vaccinationSchema, 401: apiError, 404: apiError },
      },
    },
    async (request) =>
      present(await getVaccination(ctxOf(request), (await recordActor(request)).actor, request.params.id)),
  );

  app.patch(
    '/vaccinations/:id',
    {
      schema: {
        tags: ['vaccinations'],
        summary: 'Change a vaccination (not when added or confirmed by a professional)',
        params: idParams,
        body: patch,
        response: {
          200: vaccinationSchema,
          400: apiError,
          401: apiError,
          403: apiError,
          404: apiError,
          409: apiError,
        },
      },
    },
    async (request) => {
      const { version, ...changes } = request.body;
      return present(
        await updateVaccination(
          ctxOf(request),
          (await recordActor(request)).actor,
          request.params.id,
          defined(changes),
          version,
        ),
      );
    },
  );

  app.delete(
    '/vaccinations/:id',
    {
      schema: {
        tags: ['vaccinations'],
        summary: 'Delete a vaccination (kept in its history)',
        params: idParams,
        response: { 204: z.null(), 401: apiError, 403: apiError, 404: apiError },
      },
    },
    async (request, reply) => {
      await deleteVaccination(ctxOf(request), (await recordActor(request)).actor, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/vaccinations/:id/history',
    {
      schema: {
        tags: ['vaccinations'],
        summary: 'The history of changes of a vaccination',
        params: idParams,
        response: {
          200: z.object({
            items: z.array(
              z.object({
                version: z.number(),
                change: z.string(),
                at: z.string(),
                actor: z.object({ kind: z.string(), display: z.string() }),
                snapshot: z.record(z.string(), z.unknown()),
              }),
            ),
          }),
          401: apiError,
          404: apiError,
        },
      },
    },
    async (request) => ({
      items: await vaccinationHistory(ctxOf(request), (await recordActor(request)).actor, request.params.id),
    }),
  );
};
