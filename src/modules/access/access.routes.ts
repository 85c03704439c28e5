import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ctxOf, patientActor } from '../../http/request-context.ts';
import { listRecordHistory } from './history.ts';

const eventSchema = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.object({ kind: z.string(), display: z.string(), id: z.string().nullable() }),
  action: z.string(),
  entity: z.object({ type: z.string(), id: z.string().nullable() }),
  outcome: z.enum(['success', 'denied', 'failure']),
  basis: z.string().nullable(),
});

/** The patient's activity history (every access and change on their record). */
export const historyRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/audit-events',
    {
      schema: {
        tags: ['history'],
        summary: 'Every access and change on my record, newest first',
        querystring: z.object({
          from: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
          to: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(20).optional(),
        }),
        response: { 200: z.object({ items: z.array(eventSchema), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const actor = await patientActor(request);
      const q = request.query;
      const page = await listRecordHistory(ctxOf(request), actor, actor.patientId, {
        limit: q.limit,
        ...(q.from ? { from: new Date(q.from) } : {}),
        ...(q.to ? { to: new Date(q.to) } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
      return {
        items: page.items.map((e) => ({
          id: e.id,
          at: e.recordedAt.toISOString(),
          // Someone else's attempt on this record is shown, but not who they are: their identity is theirs.
          actor:
            e.actor.kind === 'patient' && e.actor.id !== actor.patientId
              ? { kind: 'patient', display: 'Une autre personne', id: null }
              : { kind: e.actor.kind, display: e.actor.display, id: e.actor.id },
          action: e.action,
          entity: e.entity,
          outcome: e.outcome,
          basis: e.basis,
        })),
        nextCursor: page.nextCursor,
      };
    },
  );
};
