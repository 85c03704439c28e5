import { AppError, invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { sealDocument, sha1Base64, sha256 } from '../../platform/crypto.ts';
import { isUniqueViolation } from '../../platform/db/database.ts';
import { uuidv7 } from '../../platform/ids.ts';
import type { DocumentRow, NewDocumentRow } from '../../platform/db/schema.ts';
import { guarded, requireAccess, reveal, type Actor, type Guarded } from '../access/index.ts';
import type { Patient } from '../identity/index.ts';
import { parseCdaHeader, extractNonXmlBody, type CdaHeader } from './cda.ts';
import * as repo from './document.repository.ts';
import {
  blobKeyFor,
  PATIENT_MAX_BYTES,
  PATIENT_MEDIA_TYPES,
  PROFESSIONAL_MAX_BYTES,
  PROFESSIONAL_MEDIA_TYPES,
  sealAad,
  toMeta,
  type DocumentMeta,
} from './document.ts';
import { assertContentMatchesType } from './file-type.ts';
import { categoryForClass, classForType, typeDisplay } from './nomenclature.ts';

/**
 * Ingestion: a professional's software (FHIR PDSm) or the patient (upload) adds documents.
 *
 * Crash consistency: the encrypted file is written first, then the row in one transaction with its
 * audit event. A crash in between leaves a file without a row — swept later (sweep.ts) — never a
 * row without its file. Idempotency: a document is keyed by (patient, masterIdentifier); sending it
 * again returns the stored one. A submission set is keyed by its own masterIdentifier.
 */

export interface IncomingDocument {
  masterIdentifier: string;
  mediaType: string;
  content: Buffer;
  type?: { system: string; code: string; display?: string };
  classCode?: string;
  category?: string;
  title?: string;
  /** Clinical date (ISO 8601). */
  documentDate?: string;
  formatCode?: string;
  language?: string;
  confidentiality?: string[];
  /** Id of the document this one replaces (relatesTo.code = replaces). */
  replacesId?: string;
  extra?: Record<string, unknown>;
  /** Where errors point (FHIRPath on /fhir, field name on /api). */
  fieldPrefix: string;
}

export interface Submission {
  patient: Patient;
  submissionSet?: { masterIdentifier: string | null; sourceId: string | null };
  documents: IncomingDocument[];
}

export interface IngestResult {
  submissionSetId: string | null;
  documents: Array<{ meta: DocumentMeta; created: boolean }>;
  warnings: string[];
}

interface Prepared {
  id: string;
  input: IncomingDocument;
  row: NewDocumentRow;
  blob: Buffer;
}

function authorOf(actor: Actor): {
  source: 'professional' | 'patient';
  professionalId: string | null;
  organizationId: string | null;
  display: string;
} {
  switch (actor.kind) {
    case 'professional':
      return {
        source: 'professional',
        professionalId: actor.professionalId,
        organizationId: actor.organizationId,
        display: actor.display,
      };
    // A representative or caregiver adds in the person's name (the audit trail names who did).
    case 'patient':
    case 'representative':
      return { source: 'patient', professionalId: null, organizationId: null, display: actor.display };
    case 'app':
    case 'operator':
    case 'system':
      throw new AppError('forbidden', `${actor.kind} actors do not add documents in this version`);
  }
}

/** Checks a CDA against the addressed patient and fills what the metadata left out. */
function applyCda(doc: IncomingDocument, patient: Patient, warnings: string[]): CdaHeader {
  const header = parseCdaHeader(doc.content, `${doc.fieldPrefix}.content`);
  const matches = header.patient.ids.some(
    (id) => id.root === patient.ins.oid && id.extension?.toUpperCase() === patient.ins.matricule,
  );
  if (!matches) {
    throw invalid(
      'The CDA document is for another patient: its recordTarget does not carry the INS of the addressed patient',
      `${doc.fieldPrefix}.subject`,
    );
  }
  if (header.typeCode && doc.type && header.typeCode.code !== doc.type.code) {
    warnings.push(
      `The CDA code ${header.typeCode.code} differs from the declared type ${doc.type.code}; the declared type is kept`,
    );
  }
  return header;
}

function prepare(
  ctx: Ctx,
  actor: Actor,
  patient: Patient,
  doc: IncomingDocument,
  warnings: string[],
): Prepared {
  const author = authorOf(actor);
  const allowed = author.source === 'patient' ? PATIENT_MEDIA_TYPES : PROFESSIONAL_MEDIA_TYPES;
  const max = author.source === 'patient' ? PATIENT_MAX_BYTES : PROFESSIONAL_MAX_BYTES;
  if (doc.content.length > max) {
    throw new AppError(
      'payload_too_large',
      `The document is larger than ${max / 1024 / 1024} MB`,
      `${doc.fieldPrefix}.content`,
    );
  }
  const mediaType = assertContentMatchesType(
    doc.mediaType,
    doc.content,
    allowed,
    `${doc.fieldPrefix}.contentType`,
  );
  if (!doc.masterIdentifier || doc.masterIdentifier.length > 256) {
    throw invalid(
      'masterIdentifier is required (at most 256 characters): it makes publication idempotent',
      `${doc.fieldPrefix}.masterIdentifier`,
    );
  }
  let cda: CdaHeader | undefined;
  if (mediaType === 'application/xml') cda = applyCda(doc, patient, warnings);

  const type =
    doc.type ??
    (cda?.typeCode
      ? { system: 'http://loinc.org', code: cda.typeCode.code, display: cda.typeCode.displayName }
      : undefined);
  const classCode = doc.classCode ?? (type ? classForType(type.system, type.code) : undefined) ?? null;
  const category = doc.category ?? (classCode ? categoryForClass(classCode, type?.code) : 'other');
  const title =
    doc.title ?? cda?.title ?? (type ? typeDisplay(type.system, type.code) : undefined) ?? 'Document';
  const now = ctx.clock.now();
  const documentDate = new Date(doc.documentDate ?? cda?.effectiveTime ?? now.toISOString());
  if (Number.isNaN(documentDate.getTime()))
    throw invalid('The document date is not a valid date', `${doc.fieldPrefix}.date`);

  const id = uuidv7(now.getTime());
  const aad = sealAad(patient.id, id);
  const sealed = sealDocument(ctx.masterKey, doc.content, aad);
  const extra: Record<string, unknown> = { ...(doc.extra ?? {}) };
  if (cda) {
    extra.cda = {
      documentId: cda.documentId,
      setId: cda.setId,
      versionNumber: cda.versionNumber,
      authors: cda.authors.map((a) => ({ ids: a.ids, given: a.given, family: a.family })),
      body: cda.body.kind,
      embedded: cda.body.kind === 'nonXMLBody' ? (extractNonXmlBody(doc.content)?.mediaType ?? null) : null,
    };
  }
  return {
    id,
    input: doc,
    blob: sealed.blob,
    row: {
      patient_id: patient.id,
      id,
      master_identifier: doc.masterIdentifier,
      status: 'current',
      source: author.source,
      type_system: type?.system ?? null,
      type_code: type?.code ?? null,
      type_display: type?.display ?? (type ? (typeDisplay(type.system, type.code) ?? null) : null),
      class_code: classCode,
      category,
      title: title.slice(0, 500),
      document_date: documentDate,
      created_at: now,
      updated_at: now,
      author_professional_id: author.professionalId,
      author_organization_id: author.organizationId,
      author_display: author.display,
      media_type: mediaType,
      format_code: doc.formatCode ?? null,
      language: doc.language ?? null,
      size: doc.content.length,
      sha256: sha256(doc.content),
      sha1: sha1Base64(doc.content),
      blob_key: blobKeyFor(patient.id, id),
      key_id: sealed.keyId,
      wrapped_key: sealed.wrappedKey,
      confidentiality: doc.confidentiality?.length ? doc.confidentiality : ['N'],
      // No choice yet: the decision applies the record's "mask by default" (present and future).
      masked: null,
      // Delayed release (consultation d'annonce): visible to the patient one month later at the latest.
      release_at:
        author.source === 'professional' && doc.confidentiality?.includes('INVISIBLE_PATIENT')
          ? releaseDate(now)
          : null,
      replaces_id: doc.replacesId ?? null,
      submission_set_id: null,
      read_at: null,
      extra: JSON.stringify(extra),
    },
  };
}

/** One month after receipt, when a delayed document becomes visible on its own (DOMAIN §3). */
export function releaseDate(receivedAt: Date): Date {
  const d = new Date(receivedAt);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return d;
}

/**
 * A re-sent document (same masterIdentifier) may only come from whoever stored it. Checked on the
 * item's facts before anything is written; the content comparison happens under a read grant.
 */
function assertReplayable(actor: Actor, existing: Guarded<DocumentRow>, doc: IncomingDocument): void {
  // Only whoever stored it may replay it: the same professional, or the patient for an upload.
  const facts = existing.facts;
  const sameAuthor =
    actor.kind === 'professional'
      ? facts.authorProfessionalId === actor.professionalId
      : actor.kind === 'patient'
        ? facts.source === 'patient' && facts.patientId === actor.patientId
        : // The lookup is per record: a representative replays the person's own uploads.
          actor.kind === 'representative' && facts.source === 'patient';
  if (!sameAuthor) {
    throw new AppError(
      'conflict',
      'This masterIdentifier is already used for another document',
      `${doc.fieldPrefix}.masterIdentifier`,
    );
  }
}

/** Same content → the stored one (read under its own grant, so the replay is audited); other content → 409. */
async function replay(
  tx: Ctx,
  actor: Actor,
  existing: Guarded<DocumentRow>,
  doc: IncomingDocument,
): Promise<DocumentRow> {
  const grant = await requireAccess(tx, actor, {
    patientId: existing.facts.patientId,
    action: 'read',
    item: existing.facts,
    entity: { type: 'DocumentReference', id: existing.itemId },
    details: { replay: true },
  });
  const row = reveal(grant, existing);
  if (!Buffer.from(row.sha256).equals(sha256(doc.content))) {
    throw new AppError(
      'conflict',
      'This masterIdentifier was already used with a different content',
      `${doc.fieldPrefix}.masterIdentifier`,
    );
  }
  return row;
}

/**
 * Adds the documents of one submission atomically: all or none.
 * @example await ingestSubmission(ctx, actor, { patient, documents: [doc] });
 */
export async function ingestSubmission(
  ctx: Ctx,
  actor: Actor,
  submission: Submission,
): Promise<IngestResult> {
  const { patient } = submission;
  const warnings: string[] = [];
  if (submission.documents.length === 0) throw invalid('The submission contains no document');
  const seen = new Set<string>();
  for (const d of submission.documents) {
    if (seen.has(d.masterIdentifier))
      throw invalid('Two documents share a masterIdentifier', `${d.fieldPrefix}.masterIdentifier`);
    seen.add(d.masterIdentifier);
  }
  // Known documents are replayed without writing anything; new ones are sealed and written first.
  const known = new Map<string, Guarded<DocumentRow>>();
  for (const d of submission.documents) {
    const existing = await repo.findGuardedByMasterIdentifier(ctx.rootDb, patient.id, d.masterIdentifier);
    if (existing) {
      assertReplayable(actor, existing, d);
      known.set(d.masterIdentifier, existing);
    }
  }
  // The record's policy is read once, inside the transaction, by requireAccess (fresh per request).
  const prepared = submission.documents
    .filter((d) => !known.has(d.masterIdentifier))
    .map((d) => prepare(ctx, actor, patient, d, warnings));
  await Promise.all(prepared.map((p) => ctx.blobs.put(p.row.blob_key, p.blob)));

  try {
    return await guarded(ctx, async (tx) => {
      const setMaster = submission.submissionSet?.masterIdentifier ?? null;
      const grant = await requireAccess(tx, actor, {
        patientId: patient.id,
        action: 'create',
        entity: {
          type: submission.submissionSet ? 'List' : 'DocumentReference',
          ...(prepared.length === 1 && !submission.submissionSet ? { id: prepared[0]?.id } : {}),
        },
        details: { created: prepared.map((p) => p.id), replayed: [...known.values()].map((k) => k.itemId) },
      });
      let submissionSetId: string | null = null;
      if (submission.submissionSet) {
        const existingSet = setMaster
          ? await repo.findSubmissionSetByMasterIdentifier(tx.db, grant, setMaster)
          : undefined;
        submissionSetId = existingSet?.id ?? uuidv7();
        if (!existingSet) {
          await repo.insertSubmissionSet(tx.db, grant, {
            id: submissionSetId,
            master_identifier: setMaster,
            source_id: submission.submissionSet.sourceId,
            author_professional_id: actor.kind === 'professional' ? actor.professionalId : null,
            created_at: ctx.clock.now(),
          });
        }
      }
      for (const p of prepared) {
        if (p.input.replacesId) {
          const target = await repo.findGuardedById(tx.db, p.input.replacesId);
          if (!target || target.facts.patientId !== patient.id) {
            throw invalid(
              'The document to replace does not exist for this patient',
              `${p.input.fieldPrefix}.relatesTo`,
            );
          }
          const replaceGrant = await requireAccess(tx, actor, {
            patientId: patient.id,
            action: 'replace',
            item: target.facts,
            entity: { type: 'DocumentReference', id: target.itemId },
            details: { replacedBy: p.id },
          });
          if (reveal(replaceGrant, target).status !== 'current') {
            throw new AppError(
              'conflict',
              'The document to replace was already replaced',
              `${p.input.fieldPrefix}.relatesTo`,
            );
          }
          await repo.updateDocument(tx.db, replaceGrant, target, {
            status: 'superseded',
            updated_at: ctx.clock.now(),
          });
        }
        await repo.insertDocument(tx.db, grant, { ...p.row, submission_set_id: submissionSetId });
        // The person is told of a new or changed document — not of their own uploads, and not of a
        // delayed one before its release (the release job tells them then).
        if (p.row.source === 'professional' && !p.row.release_at) {
          await ctx.events?.publish(tx.db, {
            type: p.input.replacesId ? 'document.changed' : 'document.added',
            patientId: patient.id,
            data: { documentId: p.id, authorDisplay: p.row.author_display },
          });
        }
      }
      const replayed = new Map<string, DocumentRow>();
      for (const d of submission.documents) {
        const k = known.get(d.masterIdentifier);
        if (k) replayed.set(d.masterIdentifier, await replay(tx, actor, k, d));
      }
      const byMaster = new Map(prepared.map((p) => [p.input.masterIdentifier, p]));
      return {
        submissionSetId,
        warnings,
        documents: submission.documents.map((d) => {
          const p = byMaster.get(d.masterIdentifier);
          if (p) {
            const row = {
              ...p.row,
              submission_set_id: submissionSetId,
              extra: JSON.parse(p.row.extra) as Record<string, unknown>,
            } as DocumentRow;
            return { meta: toMeta(row), created: true };
          }
          return { meta: toMeta(replayed.get(d.masterIdentifier) as DocumentRow), created: false };
        }),
      };
    });
  } catch (err) {
    // Nothing was committed: remove the files we wrote (the sweep catches any we fail to remove).
    await Promise.all(prepared.map((p) => ctx.blobs.delete(p.row.blob_key).catch(() => undefined)));
    if (isUniqueViolation(err)) {
      // A concurrent request stored the same masterIdentifier first: answer as a replay.
      return ingestSubmission(ctx, actor, submission);
    }
    throw err;
  }
}
