/**
 * Population import and notices.
 * Public interface of this part of the module (re-exported by index.ts).
 */
export type { NoticeKind } from './notices.ts';
export {
  queueNotice,
  deliverPendingNotices,
  readLetter,
  registerNoticeJobs,
  letterBlobKey,
} from './notices.ts';
