import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalid } from '../../errors.ts';
import { ctxOf, recordActor } from '../../http/request-context.ts';
import {
  createMeasurement,
  deleteMeasurement,
  getTargets,
  growthCurve,
  listMeasurements,
  measurementSeries,
  rawValues,
  setTargets,
  updateMeasurement,
  type Measurement,
} from './measurements.service.ts';
import { measurementTypes, typeById } from './types.ts';

/** The person's measurements (under /api). Thin: parse, call the service, present. */

const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});
const errors = { 400: apiError, 401: apiError, 403: apiError, 404: apiError, 409: apiError };

const measurementSchema = z.object({
  id: z.string(),
  type: z.string(),
  value: z.number().nullable().describe('The value, for a single-value type (null for a panel)'),
  values: z.record(z.string(), z.number()).describe('Values by type id, in the canonical unit'),
  unit: z.string(),
  effective: z.string(),
  author: z.object({
    kind: z.enum(['patient', 'representative', 'app', 'professional', 'import']),
    display: z.string(),
  }),
  comment: z.string().nullable(),
  sourceDocumentId: z.string().nullable(),
  locked: z.boolean().describe('Entered by a professional: the patient cannot change it'),
  version: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

function present(m: Measurement): z.infer<typeof measurementSchema> {
  return {
    id: m.id,
    type: m.type,
    value: typeById(m.type)?.components ? null : (m.values[m.type] ?? null),
    values: m.values,
    unit: m.unit,
    effective: m.effective,
    author: { kind: m.author.kind, display: m.author.display },
    comment: m.comment,
    sourceDocumentId: m.sourceDocumentId,
    locked: m.author.kind === 'professional',
    version: m.version,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  };
}

const valueBody = {
  value: z.number().optional().describe('For a single-value type'),
  values: z.record(z.string(), z.number()).optional().describe('For a panel: { systolic, diastolic }'),
  unit: z.string().max(40).optional().describe('UCUM unit (default: the type’s canonical unit)'),
};

const isoInstant = z.iso.datetime({ offset: true }).or(z.iso.date());
const toDate = (s: string | undefined) =>
  s === undefined ? undefined : new Date(s.length === 10 ? `${s}T00:00:00Z` : s);

export const measurementRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/measurements/types',
    {
      schema: {
        tags: ['measurements'],
        summary: 'The measurement types: LOINC code, UCUM units, plausible and usual ranges',
        response: {
          200: z.object({ version: z.string(), types: z.array(z.record(z.string(), z.unknown())) }),
        },
      },
    },
    async () => {
      const t = measurementTypes();
      return { version: t.version, types: t.types.map((x) => ({ ...x })) };
    },
  );

  app.post(
    '/measurements',
    {
      schema: {
        tags: ['measurements'],
        summary: 'Record a measurement (an Idempotency-Key header makes retries safe)',
        body: z.object({
          type: z.string().max(40),
          ...valueBody,
          effective: z.string().max(40).describe('YYYY-MM-DD or a date-time with its time zone'),
          comment: z.string().max(2000).nullable().optional(),
          sourceDocumentId: z.string().max(64).nullable().optional(),
        }),
        response: {
          200: measurementSchema.extend({ warnings: z.array(z.string()) }),
          201: measurementSchema.extend({ warnings: z.array(z.string()) }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { actor, patientId } = await recordActor(request);
      const key = request.headers['idempotency-key'];
      if (key !== undefined && (typeof key !== 'string' || !/^[A-Za-z0-9_-]{8,128}$/.test(key)))
        throw invalid('Idempotency-Key must be 8 to 128 characters of [A-Za-z0-9_-]', 'Idempotency-Key');
      const b = request.body;
      const result = await createMeasurement(ctxOf(request), actor, patientId, {
        type: b.type,
        raw: rawValues(b.type, b),
        effective: b.effective,
        comment: b.comment ?? null,
        sourceDocumentId: b.sourceDocumentId ?? null,
        ...(key ? { idempotencyKey: key } : {}),
      });
      return reply
        .code(result.created ? 201 : 200)
        .send({ ...present(result.measurement), warnings: result.warnings });
    },
  );

  app.get(
    '/measurements',
    {
      schema: {
        tags: ['measurements'],
        summary: 'List measurements, newest first',
        querystring: z.object({
          type: z.string().max(400).optional().describe('Type id(s), comma-separated'),
          from: isoInstant.optional(),
          to: isoInstant.optional(),
          cursor: z.string().max(200).optional(),
          limit: z.coerce.number().int().min(1).max(500).optional(),
        }),
        response: {
          200: z.object({ items: z.array(measurementSchema), nextCursor: z.string().nullable() }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      const q = request.query;
      const from = toDate(q.from);
      const to = toDate(q.to);
      const page = await listMeasurements(ctxOf(request), actor, patientId, {
        ...(q.type ? { types: q.type.split(',').map((t) => t.trim()) } : {}),
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
        ...(q.limit ? { limit: q.limit } : {}),
      });
      return { items: page.items.map(present), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/measurements/series',
    {
      schema: {
        tags: ['measurements'],
        summary: 'A series for a chart: min, max and mean per time bucket (at most `points` buckets, ≤ 500)',
        querystring: z.object({
          type: z.string().max(40),
          from: isoInstant.optional(),
          to: isoInstant.optional(),
          points: z.coerce.number().int().min(1).max(500).default(100),
        }),
        response: {
          200: z.object({
            type: z.string(),
            unit: z.string(),
            from: z.string().nullable(),
            to: z.string().nullable(),
            total: z.number(),
            buckets: z.array(
              z.object({
                start: z.string(),
                end: z.string(),
                count: z.number(),
                values: z.record(
                  z.string(),
                  z.object({ min: z.number(), max: z.number(), mean: z.number() }),
                ),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      const q = request.query;
      const from = toDate(q.from);
      const to = toDate(q.to);
      return measurementSeries(ctxOf(request), actor, patientId, {
        type: q.type,
        points: q.points,
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
      });
    },
  );

  const targetSchema = z.object({
    type: z.string(),
    low: z.number().nullable(),
    high: z.number().nullable(),
    unit: z.string(),
    since: z.string(),
    setBy: z.object({ kind: z.string(), display: z.string() }),
  });
  const presentTarget = (t: z.infer<typeof targetSchema>) => ({
    ...t,
    setBy: { kind: t.setBy.kind, display: t.setBy.display },
  });

  app.get(
    '/measurements/targets',
    {
      schema: {
        tags: ['measurements'],
        summary: 'Targets agreed with a doctor',
        response: { 200: z.object({ targets: z.array(targetSchema) }), ...errors },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      return { targets: (await getTargets(ctxOf(request), actor, patientId)).map(presentTarget) };
    },
  );

  app.put(
    '/measurements/targets',
    {
      schema: {
        tags: ['measurements'],
        summary: 'Replace the targets agreed with a doctor (values in each type’s canonical unit)',
        body: z.object({
          targets: z
            .array(
              z.object({
                type: z.string().max(40),
                low: z.number().nullable().optional(),
                high: z.number().nullable().optional(),
                since: z.string().max(10).optional(),
              }),
            )
            .max(20),
        }),
        response: { 200: z.object({ targets: z.array(targetSchema) }), ...errors },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      const targets = await setTargets(
        ctxOf(request),
        actor,
        patientId,
        request.body.targets.map((t) => ({
          type: t.type,
          ...(t.low !== undefined ? { low: t.low } : {}),
          ...(t.high !== undefined ? { high: t.high } : {}),
          ...(t.since !== undefined ? { since: t.since } : {}),
        })),
      );
      return { targets: targets.map(presentTarget) };
    },
  );

  app.get(
    '/measurements/growth',
    {
      schema: {
        tags: ['measurements'],
        summary: 'A child’s growth points with WHO z-score and percentile, and the percentile lines',
        querystring: z.object({ type: z.enum(['weight', 'height', 'head_circumference', 'bmi']) }),
        response: {
          200: z.object({
            type: z.string(),
            unit: z.string(),
            sex: z.string(),
            birthDate: z.string(),
            points: z.array(
              z.object({
                id: z.string(),
                effective: z.string(),
                ageDays: z.number(),
                value: z.number(),
                zScore: z.number().nullable(),
                percentile: z.number().nullable(),
              }),
            ),
            curves: z.array(z.record(z.string(), z.number())),
          }),
          ...errors,
          503: apiError,
        },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      return growthCurve(ctxOf(request), actor, patientId, request.query.type);
    },
  );

  const idParams = z.object({ id: z.uuid() });

  app.patch(
    '/measurements/:id',
    {
      schema: {
        tags: ['measurements'],
        summary: 'Correct a measurement (its history keeps the previous values)',
        params: idParams,
        body: z.object({
          ...valueBody,
          effective: z.string().max(40).optional(),
          comment: z.string().max(2000).nullable().optional(),
          version: z.number().int().optional(),
        }),
        response: { 200: measurementSchema.extend({ warnings: z.array(z.string()) }), ...errors },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      const ctx = ctxOf(request);
      const b = request.body;
      const result = await updateMeasurement(ctx, actor, patientId, request.params.id, {
        ...(b.value !== undefined || b.values !== undefined
          ? { given: { value: b.value, values: b.values, unit: b.unit } }
          : {}),
        ...(b.effective !== undefined ? { effective: b.effective } : {}),
        ...(b.comment !== undefined ? { comment: b.comment } : {}),
        ...(b.version !== undefined ? { version: b.version } : {}),
      });
      return { ...present(result.measurement), warnings: result.warnings };
    },
  );

  app.delete(
    '/measurements/:id',
    {
      schema: {
        tags: ['measurements'],
        summary: 'Delete a measurement (kept in its history)',
        params: idParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      const { actor, patientId } = await recordActor(request);
      await deleteMeasurement(ctxOf(request), actor, patientId, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
