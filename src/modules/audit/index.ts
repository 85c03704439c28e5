/**
 * Audit trail: append-only events, one per decision and action, written in the same transaction as
 * the action they describe (only the access gate writes them), then hash-chained per patient by the
 * sealer; `verifyAuditChains` checks the chains against signed checkpoints kept outside the
 * database. Also the activity history's presentation and downloads, and disputes.
 */
export type { AuditEvent, NewAuditEvent, StoredAuditEvent, HistoryTab } from './audit.ts';
export { ACTOR_KINDS_BY_TAB } from './audit.ts';
export type { AuditQuery } from './audit.repository.ts';
export { recordAuditEvent, listPatientAuditEvents, findPatientAuditEvent } from './audit.service.ts';
export { sealAuditEvents, startAuditSealer, type SealResult, type AuditSealer } from './seal.ts';
export { verifyAuditChains, type VerifyReport, type ChainBreak } from './verify.ts';
export { formatVerifyReport, progressBar } from './verify-report.ts';
export {
  writeAuditCheckpoint,
  readAuditCheckpoints,
  compactAuditCheckpoints,
  CHECKPOINT_PREFIX,
} from './checkpoint.ts';
export { NO_PATIENT_CHAIN } from './chain.ts';
export { forgetAuditChains } from './forget.ts';
export { presentHistoryEntry, HIDDEN_PERSON, type HistoryEntry, type ActorLookups } from './history-entry.ts';
export {
  historyCsv,
  historyBundle,
  toFhirAuditEvent,
  CSV_COLUMNS,
  type FhirAuditEvent,
  type FhirBundle,
} from './history-export.ts';
export type { Dispute, DisputeStatus, DisputeChange } from './dispute.ts';
export { DISPUTE_STATUSES, MAX_DISPUTE_COMMENT } from './dispute.ts';
export { openDispute, listDisputes, updateDisputeStatus, type DisputeOperator } from './dispute.service.ts';
