/**
 * Access: who may do what on whose record. The decision (policy.ts) is one pure function over the
 * record's rules, its settings and the profession matrix; the gate (gate.ts) is the one door
 * through which every read and write of health data passes.
 */
export type {
  Actor,
  PatientActor,
  RepresentativeActor,
  ProfessionalActor,
  AppActor,
  OperatorActor,
  SystemActor,
} from './actor.ts';
export { actorId } from './actor.ts';
export type {
  Action,
  Basis,
  Decision,
  ItemFacts,
  AccessRequest,
  AccessRule,
  PrivacySettings,
  RecordPolicy,
  AccountStatus,
} from './policy.ts';
export { decide, awaitsRelease, isMasked, DEFAULT_SETTINGS, ACCOUNT_ENTITY } from './policy.ts';
export type { AccessMatrix } from './matrix.ts';
export { accessMatrix, reloadAccessMatrix, matrixAllows } from './matrix.ts';
export type { Grant, Guarded, GateRequest } from './gate.ts';
export {
  guard,
  reveal,
  requireAccess,
  filterVisible,
  explainAccess,
  guarded,
  recordDenial,
  locateOrDeny,
  recordAuthenticationFailure,
  loadRecordPolicy,
} from './gate.ts';
export { listRecordHistory } from './history.ts';
export type { NewRule, RuleView, EmergencyAccessRequest, RepresentationInput } from './privacy.service.ts';
export {
  getPrivacy,
  updatePrivacySettings,
  addAccessRule,
  revokeAccessRule,
  openEmergencyAccess,
  grantRepresentation,
  addRepresentation,
  endRepresentation,
} from './privacy.service.ts';
export { insertRepresentationsBulk, type BulkRepresentation } from './bulk-rules.ts';
