/**
 * Documents: the vault. Ingestion from professionals (FHIR PDSm) and patients, encrypted storage,
 * search, download, metadata edits, replacement and deletion — all through the access gate.
 */
export type { DocumentMeta } from './document.ts';
export { PATIENT_MAX_BYTES, PATIENT_MEDIA_TYPES, PROFESSIONAL_MAX_BYTES } from './document.ts';
export type { IncomingDocument, Submission, IngestResult } from './ingest.ts';
export { ingestSubmission } from './ingest.ts';
export type { SearchQuery, Page, MetadataChanges } from './document.service.ts';
export {
  getDocument,
  downloadDocument,
  searchDocuments,
  updateDocumentMetadata,
  setReadState,
  deleteDocument,
} from './document.service.ts';
export { sweepOrphanBlobs } from './sweep.ts';
export {
  VAULT_CATEGORIES,
  documentClasses,
  classForType,
  visibilityStatuses,
  LOINC_SYSTEM,
  LOINC_OID,
  TRE_A03_SYSTEM,
  TRE_A03_OID,
  TRE_A05_SYSTEM,
  TRE_A05_OID,
  TRE_A07_SYSTEM,
} from './nomenclature.ts';
export {
  setDocumentMasked,
  shareDocument,
  previewRecordAs,
  processDelayedReleases,
} from './document-privacy.ts';
export type { PreviewItem } from './document-privacy.ts';
