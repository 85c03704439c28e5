import type { Ctx } from '../../platform/context.ts';
import type { Channel, Language, NotificationType } from './notification.ts';
import * as repo from './notification.repository.ts';
import type { RenderedText } from './templates.ts';

/**
 * Where notifications go. Each channel has one sink; every sink is idempotent by notification id,
 * so a retried job never delivers twice: the in-app insert is unique, an .eml file is named by the
 * id, an SMTP message carries the id as its Message-ID (and a delivery row records the success).
 */

export interface OutgoingNotification {
  readonly id: string;
  readonly patientId: string;
  readonly type: NotificationType;
  readonly createdAt: Date;
  readonly language: Language;
  readonly text: RenderedText;
  /** The person's e-mail address, if they gave one. */
  readonly email: string | null;
}

/** The attempt being made: its signal aborts when the worker stops or the job's claim lapses. */
export interface DeliveryAttempt {
  readonly signal?: AbortSignal;
}

export type SinkResult =
  { readonly outcome: 'delivered' } | { readonly outcome: 'skipped'; readonly detail: string };

export interface ChannelSink {
  readonly channel: Channel;
  /**
   * True when the sink writes only to the database: it then runs in the transaction that records
   * the delivery (exactly once by construction). Otherwise the delivery row is written after the
   * sink succeeded, and the sink must itself be idempotent by notification id.
   */
  readonly transactional: boolean;
  /** Delivers, or throws to be retried with backoff. */
  deliver(ctx: Ctx, message: OutgoingNotification, attempt?: DeliveryAttempt): Promise<SinkResult>;
  close(): Promise<void>;
}

/** The sinks a worker delivers through. `push` is the slot for a future push sink. */
export type ChannelSinks = { readonly [C in Channel]?: ChannelSink };

/**
 * The in-app notification centre: one row per notification, unique by id.
 * @example const sink = inAppSink(); await sink.deliver(txCtx, message);
 */
export function inAppSink(): ChannelSink {
  return {
    channel: 'in_app',
    transactional: true,
    deliver: async (ctx, m) => {
      await repo.insertInboxItem(ctx.db, {
        patient_id: m.patientId,
        id: m.id,
        type: m.type,
        title: m.text.title,
        body: m.text.body,
        created_at: m.createdAt,
      });
      return { outcome: 'delivered' };
    },
    close: async () => undefined,
  };
}
