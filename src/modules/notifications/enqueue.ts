import type { Clock } from '../../platform/clock.ts';
import type { Queryable } from '../../platform/db/database.ts';
import type { DomainEvent, EventSink } from '../../platform/events.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { AppError } from '../../errors.ts';
import { professionByCode } from '../identity/index.ts';
import {
  isMandatory,
  parseNotificationData,
  type NotificationData,
  type NotificationType,
} from './notification.ts';
import * as repo from './notification.repository.ts';

/**
 * The outbox. A notification is written in the transaction of the event that causes it: an action
 * that rolls back notifies nobody, one that commits always does (the relay turns committed rows
 * into delivery jobs).
 */

export interface NotificationInput<T extends NotificationType = NotificationType> {
  readonly patientId: string;
  readonly type: T;
  readonly data: NotificationData<T>;
  /** Delivered whatever the preferences say. Professional and emergency accesses always are. */
  readonly mandatory?: boolean;
  /** At most one notification per patient and key (e.g. one per professional per access session). */
  readonly coalesceKey?: string;
  /** When the event happened (the caller's clock); defaults to now. */
  readonly at?: Date;
}

/**
 * Writes a notification to the outbox, in `db` — the transaction of the action that causes it.
 * Refuses data fields the type does not allow (400), so no medical detail can slip in.
 * Returns the id, or undefined when the coalescing key already had its notification.
 * @example await guarded(ctx, async (tx) => { …; await enqueueNotification(tx.db, { patientId, type: 'document_added', data: { documentId } }); });
 */
export async function enqueueNotification<T extends NotificationType>(
  db: Queryable,
  input: NotificationInput<T>,
): Promise<string | undefined> {
  const data = parseNotificationData(input.type, input.data);
  const id = uuidv7(input.at?.getTime());
  const created = await repo.insertOutboxRow(db, {
    patientId: input.patientId,
    id,
    type: input.type,
    data,
    mandatory: isMandatory(input.type) || input.mandatory === true,
    coalesceKey: input.coalesceKey ?? null,
    createdAt: input.at ?? new Date(),
  });
  if (!created) return undefined;
  await repo.notifyOutbox(db);
  return id;
}

/** One professional access session: accesses by the same professional within this window notify once. */
export const ACCESS_SESSION_MINUTES = 60;

function accessSessionKey(kind: string, professionalKey: string, at: Date): string {
  const slot = Math.floor(at.getTime() / (ACCESS_SESSION_MINUTES * 60_000));
  return `${kind}:${professionalKey}:${slot}`;
}

/**
 * New documents for one person within this window notify once ("new documents"): a hospital
 * publishing five documents sends one notice, not five.
 */
export const NEW_DOCUMENTS_WINDOW_MINUTES = 60;

function newDocumentsKey(at: Date): string {
  return `documents:${Math.floor(at.getTime() / (NEW_DOCUMENTS_WINDOW_MINUTES * 60_000))}`;
}

function text(event: DomainEvent, key: string): string | undefined {
  const v = event.data[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function required(event: DomainEvent, key: string): string {
  const v = text(event, key);
  if (!v) throw new AppError('internal', `Event ${event.type} lacks ${key}`);
  return v;
}

/**
 * The notification a domain event causes, or undefined. Pure: the mapping is tested on its own.
 * @example notificationFor({ type: 'document.added', patientId, data: { documentId } }, now)
 */
export function notificationFor(event: DomainEvent, at: Date): NotificationInput | undefined {
  const base = { patientId: event.patientId, at };
  switch (event.type) {
    case 'record.accessed': {
      const professionalId = required(event, 'professionalId');
      const code = text(event, 'professionCode');
      const professionLabel = code ? professionByCode(code)?.label : undefined;
      const emergency = event.data.emergency === true;
      const who = {
        professionalId,
        professionalDisplay: required(event, 'display'),
        ...(professionLabel ? { professionLabel } : {}),
        accessedAt: at.toISOString(),
      };
      return emergency
        ? {
            ...base,
            type: 'emergency_access',
            data: { ...who, mode: text(event, 'mode') === 'samu' ? 'samu' : 'break_glass' },
            coalesceKey: accessSessionKey('emergency', professionalId, at),
          }
        : {
            ...base,
            type: 'professional_access',
            data: who,
            coalesceKey: accessSessionKey('access', professionalId, at),
          };
    }
    case 'emergency.opened': {
      const professionalId = text(event, 'professionalId');
      const code = text(event, 'professionCode');
      const professionLabel = code ? professionByCode(code)?.label : undefined;
      const until = text(event, 'endsAt') ?? text(event, 'until');
      return {
        ...base,
        type: 'emergency_access',
        data: {
          ...(professionalId ? { professionalId } : {}),
          professionalDisplay: required(event, 'display'),
          ...(professionLabel ? { professionLabel } : {}),
          mode: text(event, 'mode') === 'samu' ? 'samu' : 'break_glass',
          accessedAt: at.toISOString(),
          ...(until ? { until: new Date(until).toISOString() } : {}),
        },
      };
    }
    case 'document.added':
      // The first document of the window is the one named; the text speaks of new documents.
      return {
        ...base,
        type: 'document_added',
        data: { documentId: required(event, 'documentId') },
        coalesceKey: newDocumentsKey(at),
      };
    case 'document.changed':
      return { ...base, type: 'document_changed', data: { documentId: required(event, 'documentId') } };
    case 'document.release_pending': {
      const releaseAt = text(event, 'releaseAt');
      return {
        ...base,
        type: 'document_release_pending',
        data: {
          documentId: required(event, 'documentId'),
          ...(releaseAt ? { releaseAt: new Date(releaseAt).toISOString() } : {}),
        },
        coalesceKey: `release-pending:${required(event, 'documentId')}`,
      };
    }
    default:
      return undefined;
  }
}

/**
 * The event sink the composition root puts in the context: each domain event that concerns the
 * person becomes an outbox row, in the transaction that published it.
 * @example const ctx = { ...rootCtx, events: notificationEvents(rootCtx.clock) };
 */
export function notificationEvents(clock: Clock): EventSink {
  return {
    publish: async (db, event) => {
      const input = notificationFor(event, clock.now());
      if (input) await enqueueNotification(db, input);
    },
  };
}
