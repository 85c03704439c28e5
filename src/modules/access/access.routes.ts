import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { ctxOf, recordActor } from '../../http/request-context.ts';
import {
  DISPUTE_STATUSES,
  historyBundle,
  historyCsv,
  MAX_DISPUTE_COMMENT,
  type Dispute,
  type HistoryEntry,
} from '../audit/index.ts';
import {
  exportRecordHistory,
  listRecordDisputes,
  listRecordHistory,
  reportAccess,
  type HistoryFilter,
} from './history.ts';

const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

const eventSchema = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.object({
    kind: z.string(),
    display: z.string(),
    id: z.string().nullable(),
    profession: z.object({ code: z.string(), label: z.string() }).optional(),
  }),
  action: z.string(),
  entity: z.object({ type: z.string(), id: z.string().nullable() }),
  outcome: z.enum(['success', 'denied', 'failure']),
  basis: z.string().nullable(),
  method: z
    .string()
    .optional()
    .describe('How I signed in (password, password+totp, password+email, passkey): sign-ins, activation'),
  label: z
    .object({ fr: z.string(), en: z.string() })
    .optional()
    .describe('The entry in words, where Carnet words it (sign-ins, sign-outs, devices, activation)'),
});

const disputeSchema = z.object({
  id: z.string(),
  eventId: z.string(),
  status: z.enum(DISPUTE_STATUSES),
  comment: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  history: z.array(
    z.object({
      at: z.string(),
      from: z.enum(DISPUTE_STATUSES).nullable(),
      to: z.enum(DISPUTE_STATUSES),
      by: z.enum(['me', 'operator', 'other']),
      note: z.string().nullable(),
    }),
  ),
});

const date = z.iso.datetime({ offset: true }).or(z.iso.date());
const filters = {
  tab: z
    .enum(['mine', 'professionals', 'apps'])
    .optional()
    .describe('mine: me, my representatives and caregivers; professionals; apps (connected apps)'),
  from: date.optional().describe('From this instant (or day), included'),
  to: date.optional().describe('Up to this instant, excluded — or to the end of this day'),
};

function toFilter(q: { tab?: HistoryFilter['tab']; from?: string; to?: string }): HistoryFilter {
  const to = q.to ? new Date(q.to) : undefined;
  // A day given alone means the whole day.
  if (to && q.to && /^\d{4}-\d{2}-\d{2}$/.test(q.to)) to.setUTCDate(to.getUTCDate() + 1);
  return {
    ...(q.tab ? { tab: q.tab } : {}),
    ...(q.from ? { from: new Date(q.from) } : {}),
    ...(to ? { to } : {}),
  };
}

function presentEntry(e: HistoryEntry) {
  return {
    id: e.id,
    at: e.at.toISOString(),
    actor: {
      kind: e.actor.kind,
      id: e.actor.id,
      display: e.actor.display,
      ...(e.actor.profession ? { profession: e.actor.profession } : {}),
    },
    action: e.action,
    entity: e.entity,
    outcome: e.outcome,
    basis: e.basis,
    ...(e.method ? { method: e.method } : {}),
    ...(e.label ? { label: e.label } : {}),
  };
}

function presentDispute(d: Dispute, patientId: string): z.infer<typeof disputeSchema> {
  return {
    id: d.id,
    eventId: d.eventId,
    status: d.status,
    comment: d.comment,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    history: d.history.map((c) => ({
      at: c.at.toISOString(),
      from: c.from,
      to: c.to,
      // Who handled it is staff business; the person sees that it moved, and why.
      by: c.by.kind === 'operator' ? 'operator' : c.by.id === patientId ? 'me' : 'other',
      note: c.note,
    })),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The patient's activity history (every access and change on their record), its downloads and disputes. */
export const historyRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/audit-events',
    {
      schema: {
        tags: ['history'],
        summary: 'Every access and change on my record, newest first',
        querystring: z.object({
          ...filters,
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(20).optional(),
        }),
        response: {
          200: z.object({ items: z.array(eventSchema), nextCursor: z.string().nullable() }),
          400: apiError,
          401: apiError,
        },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      const q = request.query;
      const page = await listRecordHistory(ctxOf(request), actor, patientId, {
        ...toFilter(q),
        limit: q.limit,
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
      return { items: page.items.map(presentEntry), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/audit-events/export',
    {
      schema: {
        tags: ['history'],
        summary: 'Download my activity history: CSV, or a FHIR Bundle of AuditEvent resources',
        querystring: z.object({ format: z.enum(['csv', 'fhir']).default('csv'), ...filters }),
      },
    },
    async (request, reply) => {
      const { actor, patientId } = await recordActor(request);
      const ctx = ctxOf(request);
      const { format, ...q } = request.query;
      const entries = await exportRecordHistory(ctx, actor, patientId, toFilter(q), format);
      const day = ctx.clock.now().toISOString().slice(0, 10);
      const csv = format === 'csv';
      return reply
        .header('Content-Type', csv ? 'text/csv; charset=utf-8' : 'application/fhir+json; charset=utf-8')
        .header(
          'Content-Disposition',
          `attachment; filename="carnet-history-${day}.${csv ? 'csv' : 'fhir.json'}"`,
        )
        .header('Cache-Control', 'private, no-store')
        .send(csv ? historyCsv(entries) : JSON.stringify(historyBundle(entries, ctx.clock.now())));
    },
  );

  app.post(
    '/audit-events/:id/disputes',
    {
      schema: {
        tags: ['history'],
        summary: 'Report this access: open a dispute on an entry of my history',
        params: z.object({ id: z.string().max(64) }),
        body: z.object({ comment: z.string().max(MAX_DISPUTE_COMMENT) }),
        response: { 201: disputeSchema, 400: apiError, 401: apiError, 404: apiError, 409: apiError },
      },
    },
    async (request, reply) => {
      const { actor, patientId } = await recordActor(request);
      if (!UUID.test(request.params.id)) throw new AppError('not_found', 'Not found');
      const dispute = await reportAccess(
        ctxOf(request),
        actor,
        patientId,
        request.params.id.toLowerCase(),
        request.body.comment,
      );
      return reply.status(201).send(presentDispute(dispute, patientId));
    },
  );

  app.get(
    '/disputes',
    {
      schema: {
        tags: ['history'],
        summary: 'The accesses I reported, with where each report stands',
        response: { 200: z.object({ items: z.array(disputeSchema) }), 401: apiError },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      const disputes = await listRecordDisputes(ctxOf(request), actor, patientId);
      return { items: disputes.map((d) => presentDispute(d, patientId)) };
    },
  );
};
