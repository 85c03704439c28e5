import type { DocumentRow } from '../../platform/db/schema.ts';
import type { ItemFacts } from '../access/index.ts';

/** A document's metadata as services and routes see it (never the content, never key material). */
export interface DocumentMeta {
  id: string;
  patientId: string;
  masterIdentifier: string;
  status: 'current' | 'superseded';
  source: 'professional' | 'patient';
  type: { system: string; code: string; display: string | null } | null;
  classCode: string | null;
  category: string;
  title: string;
  /** Clinical date of the document (acte), ISO 8601. */
  documentDate: string;
  /** When Carnet received it, ISO 8601. */
  createdAt: string;
  updatedAt: string;
  author: {
    kind: 'professional' | 'patient';
    professionalId: string | null;
    organizationId: string | null;
    display: string;
  };
  mediaType: string;
  formatCode: string | null;
  language: string | null;
  size: number;
  sha256: string;
  sha1: string;
  confidentiality: string[];
  replacesId: string | null;
  submissionSetId: string | null;
  readAt: string | null;
  /** The patient's choice for this document (null: follows "mask by default"). */
  masked: boolean | null;
  /** Delayed release: when it becomes visible to the patient (null: not delayed). */
  releaseAt: string | null;
  extra: Record<string, unknown>;
}

export type DocumentFacts = ItemFacts;

export function factsOf(
  row: Pick<
    DocumentRow,
    | 'id'
    | 'patient_id'
    | 'source'
    | 'author_professional_id'
    | 'confidentiality'
    | 'class_code'
    | 'type_code'
    | 'masked'
    | 'release_at'
  >,
): ItemFacts {
  return {
    type: 'DocumentReference',
    id: row.id,
    typeCode: row.type_code,
    masked: row.masked,
    releaseAt: row.release_at ? new Date(row.release_at) : null,
    patientId: row.patient_id,
    source: row.source,
    authorProfessionalId: row.author_professional_id,
    confidentiality: row.confidentiality,
    classCode: row.class_code,
  };
}

const iso = (d: Date | string): string => new Date(d).toISOString();

/** Maps a row to the domain object, dropping key material and storage details. */
export function toMeta(row: DocumentRow): DocumentMeta {
  return {
    id: row.id,
    patientId: row.patient_id,
    masterIdentifier: row.master_identifier,
    status: row.status,
    source: row.source,
    type:
      row.type_code && row.type_system
        ? { system: row.type_system, code: row.type_code, display: row.type_display }
        : null,
    classCode: row.class_code,
    category: row.category,
    title: row.title,
    documentDate: iso(row.document_date),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    author: {
      kind: row.source,
      professionalId: row.author_professional_id,
      organizationId: row.author_organization_id,
      display: row.author_display,
    },
    mediaType: row.media_type,
    formatCode: row.format_code,
    language: row.language,
    size: row.size,
    sha256: Buffer.from(row.sha256).toString('hex'),
    sha1: row.sha1,
    confidentiality: row.confidentiality,
    replacesId: row.replaces_id,
    submissionSetId: row.submission_set_id,
    readAt: row.read_at ? iso(row.read_at) : null,
    masked: row.masked,
    releaseAt: row.release_at ? iso(row.release_at) : null,
    extra: row.extra,
  };
}

/** Where a document's encrypted content lives: grouped by patient, so a person's files can be listed and erased together. */
export function blobKeyFor(patientId: string, documentId: string): string {
  return `docs/${patientId}/${documentId}`;
}

export function parseBlobKey(key: string): { patientId: string; documentId: string } | undefined {
  const m = /^docs\/([0-9a-f-]{36})\/([0-9a-f-]{36})$/.exec(key);
  return m ? { patientId: m[1] as string, documentId: m[2] as string } : undefined;
}

/** Associated data bound into the encryption: a blob only decrypts for its own record. */
export function sealAad(patientId: string, documentId: string): string {
  return `${patientId}/${documentId}`;
}

/** Media types a professional's software may send, and what a patient may upload (DOMAIN §3). */
export const PROFESSIONAL_MEDIA_TYPES = [
  'application/pdf',
  'application/xml',
  'text/plain',
  'image/jpeg',
  'image/png',
] as const;
export const PATIENT_MEDIA_TYPES = [
  'application/pdf',
  'text/plain',
  'application/rtf',
  'image/jpeg',
  'image/png',
  'image/tiff',
] as const;
export const PATIENT_MAX_BYTES = 5 * 1024 * 1024;
export const PROFESSIONAL_MAX_BYTES = 20 * 1024 * 1024;

/** Page cursors are opaque to clients: base64url of "createdAt|id". */
export function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(`${createdAt}|${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } | undefined {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = at ? new Date(at) : undefined;
  if (!createdAt || Number.isNaN(createdAt.getTime()) || !id || !/^[0-9a-f-]{36}$/.test(id)) return undefined;
  return { createdAt, id };
}
