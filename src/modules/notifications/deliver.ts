import type { Ctx } from '../../platform/context.ts';
import type { ChannelSink, DeliveryAttempt, OutgoingNotification } from './channels.ts';
import {
  DEFAULT_LANGUAGE,
  isChannelEnabled,
  isNotificationType,
  parseNotificationData,
} from './notification.ts';
import * as repo from './notification.repository.ts';
import { renderNotification } from './templates.ts';

/**
 * Delivers one notification on one channel — the body of a delivery job. Exactly once per
 * (notification, channel): a recorded delivery ends it; a transactional sink (in-app) writes its
 * row in the transaction that records the delivery; other sinks are idempotent by notification id
 * and the delivery is recorded after they succeed. Throws to have the job retried.
 */

export interface DeliveryJob {
  readonly patientId: string;
  readonly notificationId: string;
}

export type DeliveryResult = 'delivered' | 'skipped' | 'already_done' | 'gone';

/**
 * @example await deliverNotification(ctx, inAppSink(), { patientId, notificationId }, 1);
 */
export async function deliverNotification(
  ctx: Ctx,
  sink: ChannelSink,
  job: DeliveryJob,
  attemptNumber: number,
  attempt: DeliveryAttempt = {},
): Promise<DeliveryResult> {
  const db = ctx.rootDb;
  const channel = sink.channel;
  if (await repo.findDelivery(db, job.patientId, job.notificationId, channel)) return 'already_done';
  const row = await repo.findOutboxRow(db, job.patientId, job.notificationId);
  if (!row) return 'gone';
  const record = (outcome: 'delivered' | 'skipped', detail: string | null) => ({
    patientId: row.patient_id,
    notificationId: row.id,
    channel,
    outcome,
    detail,
    attempt: attemptNumber,
    recordedAt: ctx.clock.now(),
  });
  const type = row.type;
  if (!isNotificationType(type)) {
    ctx.log.error({ notificationId: row.id, type }, 'notification of an unknown type');
    await repo.insertDelivery(db, record('skipped', 'unknown type'));
    return 'skipped';
  }
  const settings = await repo.loadDeliverySettings(db, row.patient_id);
  if (!isChannelEnabled(type, row.mandatory, channel, settings.preferences)) {
    await repo.insertDelivery(db, record('skipped', 'turned off in preferences'));
    return 'skipped';
  }
  const language = settings.language ?? DEFAULT_LANGUAGE;
  const message: OutgoingNotification = {
    id: row.id,
    patientId: row.patient_id,
    type,
    createdAt: new Date(row.created_at),
    language,
    text: renderNotification(type, parseNotificationData(type, row.data), language),
    email: channel === 'email' ? await repo.findPatientEmail(db, row.patient_id) : null,
  };

  if (sink.transactional) {
    return db.transaction().execute(async (tx) => {
      if (!(await repo.insertDelivery(tx, record('delivered', null)))) return 'already_done';
      await sink.deliver({ ...ctx, db: tx }, message, attempt);
      return 'delivered';
    });
  }
  const result = await sink.deliver(ctx, message, attempt);
  const detail = result.outcome === 'skipped' ? result.detail : null;
  await repo.insertDelivery(db, record(result.outcome, detail));
  return result.outcome;
}
