import { AppError, invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { isUuid } from '../../platform/ids.ts';
import type { NotificationInboxRow } from '../../platform/db/schema.ts';
import { guarded, recordDenial, requireAccess, type Action, type Actor } from '../access/index.ts';
import {
  checkPreferenceChanges,
  DEFAULT_LANGUAGE,
  preferenceGrid,
  type Language,
  type NotificationType,
  type Preference,
  type PreferenceCell,
} from './notification.ts';
import * as repo from './notification.repository.ts';

/**
 * The person's notification centre and preferences. They are the person's data: every path goes
 * through the access gate (entity 'Notification' / 'NotificationPreference'), and the decision
 * allows the owner.
 */

export interface NotificationItem {
  readonly id: string;
  readonly type: NotificationType;
  readonly title: string;
  readonly body: string;
  readonly createdAt: string;
  readonly readAt: string | null;
}

function toItem(row: NotificationInboxRow): NotificationItem {
  return {
    id: row.id,
    type: row.type as NotificationType,
    title: row.title,
    body: row.body,
    createdAt: new Date(row.created_at).toISOString(),
    readAt: row.read_at ? new Date(row.read_at).toISOString() : null,
  };
}

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(`${createdAt}|${id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } | undefined {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = at ? new Date(at) : undefined;
  if (!createdAt || Number.isNaN(createdAt.getTime()) || !id || !isUuid(id)) return undefined;
  return { createdAt, id };
}

export interface NotificationPage {
  readonly items: NotificationItem[];
  readonly nextCursor: string | null;
  readonly unreadCount: number;
}

/**
 * The person's notifications, newest first.
 * @example const page = await listNotifications(ctx, actor, actor.patientId, { unreadOnly: true, limit: 20 });
 */
export async function listNotifications(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  query: { unreadOnly: boolean; limit: number; cursor?: string },
): Promise<NotificationPage> {
  if (query.limit < 1 || query.limit > 200) throw invalid('limit must be between 1 and 200', 'limit');
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  if (query.cursor && !after) throw invalid('The page cursor is not valid', 'cursor');
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'search',
      entity: { type: 'Notification' },
      details: { unreadOnly: query.unreadOnly },
    });
    const rows = await repo.listInbox(
      tx.db,
      grant,
      { unreadOnly: query.unreadOnly, ...(after ? { after } : {}) },
      query.limit + 1,
    );
    const items = rows.slice(0, query.limit).map(toItem);
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null,
      unreadCount: await repo.countUnread(tx.db, grant),
    };
  });
}

/** The owner of a notification, or a recorded denial and 404 (an unknown id looks like another's). */
async function ownerOrDeny(ctx: Ctx, actor: Actor, id: string, action: Action): Promise<string> {
  const owner = isUuid(id) ? await repo.findInboxOwner(ctx.db, id) : undefined;
  if (!owner) {
    await recordDenial(
      ctx,
      actor,
      {
        patientId: null,
        action,
        entity: { type: 'Notification', id: isUuid(id) ? id : JSON.stringify(id).slice(1, -1) },
      },
      'no such notification',
    );
    throw new AppError('not_found', 'Not found');
  }
  return owner;
}

/**
 * Marks a notification read or unread.
 * @example await setNotificationReadState(ctx, actor, id, true);
 */
export async function setNotificationReadState(
  ctx: Ctx,
  actor: Actor,
  id: string,
  read: boolean,
): Promise<NotificationItem> {
  const patientId = await ownerOrDeny(ctx, actor, id, 'update');
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'update',
      entity: { type: 'Notification', id },
      details: { readState: read },
    });
    const row = await repo.setInboxReadAt(tx.db, grant, id, read ? ctx.clock.now() : null);
    if (!row) throw new AppError('not_found', 'Not found'); // deleted meanwhile
    return toItem(row);
  });
}

/**
 * Deletes a notification from the centre (its delivery record stays: it is never delivered again).
 * @example await deleteNotification(ctx, actor, id);
 */
export async function deleteNotification(ctx: Ctx, actor: Actor, id: string): Promise<void> {
  const patientId = await ownerOrDeny(ctx, actor, id, 'delete');
  await guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'delete',
      entity: { type: 'Notification', id },
    });
    if (!(await repo.deleteInboxItem(tx.db, grant, id))) throw new AppError('not_found', 'Not found');
  });
}

export interface NotificationPreferences {
  readonly language: Language;
  readonly preferences: PreferenceCell[];
}

/**
 * The whole type × channel grid, with the cells that cannot be turned off marked.
 * @example const { language, preferences } = await getNotificationPreferences(ctx, actor, actor.patientId);
 */
export async function getNotificationPreferences(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
): Promise<NotificationPreferences> {
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'read',
      entity: { type: 'NotificationPreference' },
    });
    const stored = await repo.loadPreferences(tx.db, grant);
    return { language: stored.language ?? DEFAULT_LANGUAGE, preferences: preferenceGrid(stored.preferences) };
  });
}

/**
 * Changes some cells (and the language of notifications). Turning off a mandatory type is a 400
 * with the reason; nothing is changed then.
 * @example await updateNotificationPreferences(ctx, actor, actor.patientId, { preferences: [{ type: 'message', channel: 'email', enabled: false }] });
 */
export async function updateNotificationPreferences(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  changes: { language?: Language; preferences?: Preference[] },
): Promise<NotificationPreferences> {
  const preferences = checkPreferenceChanges(changes.preferences ?? []);
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'update',
      entity: { type: 'NotificationPreference' },
      details: { changes: preferences.length, ...(changes.language ? { language: changes.language } : {}) },
    });
    const now = ctx.clock.now();
    await repo.upsertPreferences(tx.db, grant, preferences, now);
    if (changes.language) await repo.upsertLanguage(tx.db, grant, changes.language, now);
    const stored = await repo.loadPreferences(tx.db, grant);
    return { language: stored.language ?? DEFAULT_LANGUAGE, preferences: preferenceGrid(stored.preferences) };
  });
}
