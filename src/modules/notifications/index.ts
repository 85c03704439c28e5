/**
 * Notifications: an outbox written in the transaction of the event that causes it; workers on
 * pg-boss that deliver to the in-app centre and by e-mail (SMTP, or a local outbox folder),
 * exactly once per channel; preferences per type and channel; and scheduled jobs for every module.
 */
export {
  NOTIFICATION_TYPES,
  MANDATORY_TYPES,
  CHANNELS,
  LANGUAGES,
  isMandatory,
  parseNotificationData,
} from './notification.ts';
export type {
  NotificationType,
  NotificationData,
  Channel,
  Language,
  PreferenceCell,
} from './notification.ts';
export { renderNotification } from './templates.ts';
export type { RenderedText } from './templates.ts';
export {
  enqueueNotification,
  notificationEvents,
  notificationFor,
  ACCESS_SESSION_MINUTES,
} from './enqueue.ts';
export type { NotificationInput } from './enqueue.ts';
export {
  listNotifications,
  setNotificationReadState,
  deleteNotification,
  getNotificationPreferences,
  updateNotificationPreferences,
} from './notification.service.ts';
export type { NotificationItem, NotificationPage, NotificationPreferences } from './notification.service.ts';
export {
  createJobRegistry,
  registerJobHandler,
  scheduleJob,
  cancelScheduledJob,
  runDueJobsNow,
} from './jobs.ts';
export type { JobHandler, JobRegistry, ScheduledJob, ScheduleInput, DueJobsReport } from './jobs.ts';
export { startNotificationWorker, DEFAULT_RETRY } from './worker.ts';
export type { NotificationWorker, WorkerOptions, RetryPolicy } from './worker.ts';
export type { ChannelSink, ChannelSinks, OutgoingNotification } from './channels.ts';
export { notificationRoutes, devMailRoutes } from './notification.routes.ts';
export { sendAccountMail, closeAccountMail, type AccountMail } from './account-mail.ts';
export { listOutboxMails, readOutboxMail } from './email.ts';
