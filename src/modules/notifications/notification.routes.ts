import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { ctxOf, recordActor } from '../../http/request-context.ts';
import { listOutboxMails, readOutboxMail } from './email.ts';
import { CHANNELS, LANGUAGES, NOTIFICATION_TYPES } from './notification.ts';
import {
  deleteNotification,
  getNotificationPreferences,
  listNotifications,
  setNotificationReadState,
  updateNotificationPreferences,
  type NotificationItem,
} from './notification.service.ts';

/** The person's notification centre and preferences (/api), and the development mail page (/dev). */

const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});
const idParams = z.object({ id: z.string().max(64) });

const notificationSchema = z.object({
  id: z.string(),
  type: z.enum(NOTIFICATION_TYPES),
  title: z.string(),
  body: z.string(),
  createdAt: z.string(),
  read: z.boolean(),
});

const present = (n: NotificationItem): z.infer<typeof notificationSchema> => ({
  id: n.id,
  type: n.type,
  title: n.title,
  body: n.body,
  createdAt: n.createdAt,
  read: n.readAt !== null,
});

const preferenceSchema = z.object({
  type: z.enum(NOTIFICATION_TYPES),
  channel: z.enum(CHANNELS),
  enabled: z.boolean(),
});
const preferencesSchema = z.object({
  language: z.enum(LANGUAGES),
  preferences: z.array(preferenceSchema.extend({ mandatory: z.boolean().describe('Cannot be turned off') })),
});

export const notificationRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/notifications',
    {
      schema: {
        tags: ['notifications'],
        summary: 'My notifications, newest first',
        querystring: z.object({
          unread: z.enum(['true', 'false']).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(20),
          cursor: z.string().max(200).optional(),
        }),
        response: {
          200: z.object({
            items: z.array(notificationSchema),
            nextCursor: z.string().nullable(),
            unreadCount: z.number(),
          }),
          400: apiError,
        },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      const q = request.query;
      const page = await listNotifications(ctxOf(request), actor, patientId, {
        unreadOnly: q.unread === 'true',
        limit: q.limit,
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
      return { items: page.items.map(present), nextCursor: page.nextCursor, unreadCount: page.unreadCount };
    },
  );

  app.put(
    '/notifications/:id/read-state',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Mark a notification read or unread',
        params: idParams,
        body: z.object({ read: z.boolean() }).strict(),
        response: { 200: notificationSchema, 404: apiError },
      },
    },
    async (request) =>
      present(
        await setNotificationReadState(
          ctxOf(request),
          (await recordActor(request)).actor,
          request.params.id,
          request.body.read,
        ),
      ),
  );

  app.delete(
    '/notifications/:id',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Delete a notification',
        params: idParams,
        response: { 204: z.null(), 404: apiError },
      },
    },
    async (request, reply) => {
      await deleteNotification(ctxOf(request), (await recordActor(request)).actor, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/notification-preferences',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Which notifications I receive, by type and channel',
        response: { 200: preferencesSchema },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      return getNotificationPreferences(ctxOf(request), actor, patientId);
    },
  );

  app.put(
    '/notification-preferences',
    {
      schema: {
        tags: ['notifications'],
        summary:
          'Turn notifications on or off (each access by a professional, and emergency accesses, stay on)',
        body: z
          .object({
            language: z.enum(LANGUAGES).optional(),
            preferences: z.array(preferenceSchema.strict()).max(100).optional(),
          })
          .strict(),
        response: { 200: preferencesSchema, 400: apiError },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      return updateNotificationPreferences(ctxOf(request), actor, patientId, {
        ...(request.body.language ? { language: request.body.language } : {}),
        ...(request.body.preferences ? { preferences: request.body.preferences } : {}),
      });
    },
  );
};

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The local mail outbox (embedded mode, demo only): /dev/mail lists the .eml files, /dev/mail/:id
 * shows one as stored. Register only when demo mode is on and mail goes to the outbox.
 */
export const devMailRoutes: FastifyPluginAsyncZod = async (app) => {
  const mail = app.carnet.config.mail;
  if (mail.kind !== 'outbox') return;
  app.get('/dev/mail', { schema: { hide: true } }, async (_request, reply) => {
    const mails = await listOutboxMails(mail.dir);
    const rows = mails
      .map(
        (m) =>
          `<tr><td>${escapeHtml(Number.isNaN(m.date.getTime()) ? '' : m.date.toISOString())}</td>` +
          `<td>${escapeHtml(m.to)}</td><td><a href="/dev/mail/${m.id}">${escapeHtml(m.subject)}</a></td></tr>`,
      )
      .join('\n');
    const html =
      `<!doctype html><html lang="en"><meta charset="utf-8"><title>Carnet — mail outbox</title>` +
      `<h1>Mail outbox</h1><p>${mails.length} message(s) in ${escapeHtml(mail.dir)} (development only).</p>` +
      `<table><thead><tr><th>Date</th><th>To</th><th>Subject</th></tr></thead><tbody>${rows}</tbody></table></html>`;
    return reply
      .type('text/html; charset=utf-8')
      .header('Content-Security-Policy', "default-src 'none'")
      .send(html);
  });
  app.get('/dev/mail/:id', { schema: { hide: true, params: idParams } }, async (request, reply) => {
    const raw = await readOutboxMail(mail.dir, request.params.id);
    if (raw === undefined) throw new AppError('not_found', 'No such mail');
    return reply.type('text/plain; charset=utf-8').send(raw);
  });
};
