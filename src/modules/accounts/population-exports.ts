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
  issueProvisioningNotices,
  letterBlobKey,
} from './notices.ts';
export {
  importPopulation,
  OPPOSITION_DAYS,
  type ImportSummary,
  type ImportOptions,
  type Rejection,
} from './population.ts';
