import { z } from 'zod';
import { invalid } from '../../errors.ts';

/**
 * Notifications: what can be notified, through which channels, and what a notification may carry.
 * Types and pure rules only. A notification's data holds ids and non-medical facts (who accessed,
 * when, their profession) — never a document's title, type or content (DOMAIN §5).
 */

export const NOTIFICATION_TYPES = [
  'professional_access',
  'emergency_access',
  'document_added',
  'document_changed',
  'message',
  'appointment',
  'prevention_due',
  'apps_recap',
  'document_release_pending',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** Cannot be turned off, on any channel: each professional access and each emergency access. */
export const MANDATORY_TYPES: readonly NotificationType[] = ['professional_access', 'emergency_access'];

export const CHANNELS = ['in_app', 'email', 'push'] as const;
export type Channel = (typeof CHANNELS)[number];
/** Channels a worker delivers to today; push has a slot (preferences, sink interface) but no sink yet. */
export const DELIVERED_CHANNELS: readonly Channel[] = ['in_app', 'email'];

export const LANGUAGES = ['fr', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'fr';

const id = z.uuid();
const instant = z.iso.datetime({ offset: true });
/** A person's or an organisation's name, or a profession label: one plain line. */
const label = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\p{Cc}]*$/u, 'must be one line without control characters');

/**
 * The data each type may carry, and nothing else (strict: an extra field such as a document title
 * is refused when the notification is enqueued).
 */
export const NOTIFICATION_DATA = {
  professional_access: z.strictObject({
    professionalId: id,
    professionalDisplay: label,
    professionLabel: label.optional(),
    accessedAt: instant,
  }),
  emergency_access: z.strictObject({
    professionalId: id.optional(),
    professionalDisplay: label,
    professionLabel: label.optional(),
    mode: z.enum(['samu', 'break_glass']),
    accessedAt: instant,
    until: instant.optional(),
  }),
  document_added: z.strictObject({ documentId: id }),
  document_changed: z.strictObject({ documentId: id }),
  message: z.strictObject({ messageId: id }),
  appointment: z.strictObject({ appointmentId: id, startsAt: instant }),
  prevention_due: z.strictObject({ itemId: id }),
  apps_recap: z.strictObject({ appCount: z.number().int().min(0).max(10_000), periodDays: z.number().int() }),
  document_release_pending: z.strictObject({ documentId: id, releaseAt: instant.optional() }),
} as const satisfies Record<NotificationType, z.ZodType>;

export type NotificationData<T extends NotificationType = NotificationType> = z.infer<
  (typeof NOTIFICATION_DATA)[T]
>;

export function isNotificationType(value: string): value is NotificationType {
  return (NOTIFICATION_TYPES as readonly string[]).includes(value);
}

export function isMandatory(type: NotificationType): boolean {
  return MANDATORY_TYPES.includes(type);
}

/**
 * Checks a notification's data against its type: only the allowed fields, well formed.
 * @example parseNotificationData('document_added', { documentId }) // { documentId }
 */
export function parseNotificationData<T extends NotificationType>(
  type: T,
  data: unknown,
): NotificationData<T> {
  const parsed = NOTIFICATION_DATA[type].safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') ?? '';
    throw invalid(
      `Notification data for ${type} is not allowed: ${path ? `${path}: ` : ''}${issue?.message ?? 'invalid'}`,
      path ? `data.${path}` : 'data',
    );
  }
  return parsed.data as NotificationData<T>;
}

/** One stored preference: on or off for a type on a channel. Absent means on. */
export interface Preference {
  readonly type: NotificationType;
  readonly channel: Channel;
  readonly enabled: boolean;
}

/** What the person sees and sets: the whole type × channel grid, with the fixed cells marked. */
export interface PreferenceCell extends Preference {
  readonly mandatory: boolean;
}

/**
 * The full grid from the stored preferences: everything on by default; mandatory types always on.
 * @example preferenceGrid([{ type: 'message', channel: 'email', enabled: false }])
 */
export function preferenceGrid(stored: readonly Preference[]): PreferenceCell[] {
  const cells: PreferenceCell[] = [];
  for (const type of NOTIFICATION_TYPES) {
    for (const channel of CHANNELS) {
      const mandatory = isMandatory(type);
      const saved = stored.find((p) => p.type === type && p.channel === channel);
      cells.push({ type, channel, mandatory, enabled: mandatory || (saved?.enabled ?? true) });
    }
  }
  return cells;
}

/**
 * Refuses turning off what cannot be turned off. Returns the changes to store.
 * @example checkPreferenceChanges([{ type: 'professional_access', channel: 'email', enabled: false }]) // throws 400
 */
export function checkPreferenceChanges(changes: readonly Preference[]): Preference[] {
  const seen = new Set<string>();
  changes.forEach((change, i) => {
    const cell = `${change.type}/${change.channel}`;
    if (seen.has(cell)) throw invalid(`${cell} is given twice`, `preferences.${i}`);
    seen.add(cell);
    if (!change.enabled && isMandatory(change.type)) {
      throw invalid(
        `Notifications of ${change.type === 'professional_access' ? 'each access by a professional' : 'each emergency access'} cannot be turned off: you are always told who opened your record`,
        `preferences.${i}.enabled`,
      );
    }
  });
  return [...changes];
}

/** Whether a notification goes out on a channel, given the person's stored preferences. */
export function isChannelEnabled(
  type: NotificationType,
  mandatory: boolean,
  channel: Channel,
  stored: readonly Preference[],
): boolean {
  if (mandatory || isMandatory(type)) return true;
  return stored.find((p) => p.type === type && p.channel === channel)?.enabled ?? true;
}
