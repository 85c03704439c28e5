/**
 * Opposition, creation after the window, closure, erasure, re-opening, suspension, operator commands.
 * Public interface of this part of the module (re-exported by index.ts).
 */
export {
  OPPOSITION_WEEKS,
  SUSPENSION_WEEKS,
  ARCHIVE_YEARS,
  ERASURE_REQUEST_MONTHS,
  SYSTEM_ACTOR,
  operatorActor,
  openDueSpaces,
  type LifecycleActor,
  type SpaceState,
} from './lifecycle.ts';
export { opposeSpace, oppositionProof, type Opposition, type OppositionRequest } from './opposition.ts';
export { closeSpace, reopenSpace, reopenWithCode } from './closure.ts';
export { suspendSpace, unsuspendSpace, closeDueSuspensions } from './suspension.ts';
export { eraseSpace, eraseDueSpaces, erasureReference, deleteQueuedBlobs } from './erasure.ts';
export { findPersonByMatricule, showPerson, reissueCode, type PersonOverview } from './operator.ts';
export { registerLifecycleJobs } from './lifecycle-jobs.ts';
