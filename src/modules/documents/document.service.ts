import { AppError, invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { openDocument, sha256 } from '../../platform/crypto.ts';
import { isUuid } from '../../platform/ids.ts';
import type { DocumentRow } from '../../platform/db/schema.ts';
import {
  filterVisible,
  guarded,
  recordDenial,
  requireAccess,
  reveal,
  type Actor,
  type Guarded,
} from '../access/index.ts';
import * as repo from './document.repository.ts';
import { decodeCursor, encodeCursor, sealAad, toMeta, type DocumentMeta } from './document.ts';
import { VAULT_CATEGORIES } from './nomenclature.ts';

/** Reading, searching and changing documents; every path goes through the access gate. */

async function loadOrDeny(
  ctx: Ctx,
  actor: Actor,
  id: string,
  action: 'read' | 'update' | 'delete',
): Promise<Guarded<DocumentRow>> {
  const found = isUuid(id) ? await repo.findGuardedById(ctx.db, id) : undefined;
  if (!found) {
    await recordDenial(
      ctx,
      actor,
      // A malformed id is audited escaped (JSON-style), so control characters such as NUL cannot
      // make the denial itself fail to be recorded.
      {
        patientId: null,
        action,
        entity: { type: 'DocumentReference', id: isUuid(id) ? id : JSON.stringify(id).slice(1, -1) },
      },
      'no such document',
    );
    throw new AppError('not_found', 'Not found');
  }
  return found;
}

/** @example const meta = await getDocument(ctx, actor, id); */
export async function getDocument(ctx: Ctx, actor: Actor, id: string): Promise<DocumentMeta> {
  const found = await loadOrDeny(ctx, actor, id, 'read');
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId: found.facts.patientId,
      action: 'read',
      item: found.facts,
      entity: { type: 'DocumentReference', id },
    });
    return toMeta(reveal(grant, found));
  });
}

/**
 * Decrypts and returns a document's exact bytes, checking its SHA-256. A patient's first download
 * marks it read. The access is audited before any byte leaves. The content is opened inside the
 * transaction, before the read mark: a file failing its integrity check leaves the document unread.
 */
export async function downloadDocument(
  ctx: Ctx,
  actor: Actor,
  id: string,
): Promise<{ meta: DocumentMeta; content: Buffer }> {
  const found = await loadOrDeny(ctx, actor, id, 'read');
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId: found.facts.patientId,
      action: 'read',
      item: found.facts,
      entity: { type: 'Binary', id },
      details: { download: true },
    });
    const current = reveal(grant, found);
    const content = await openContent(ctx, current);
    const row =
      actor.kind === 'patient' && !current.read_at
        ? await repo.updateDocument(tx.db, grant, found, { read_at: ctx.clock.now() })
        : current;
    return { meta: toMeta(row), content };
  });
}

/** Reads and decrypts a document's file; 500 `internal` when it is missing, altered, truncated or swapped. */
async function openContent(ctx: Ctx, row: DocumentRow): Promise<Buffer> {
  let blob: Buffer;
  try {
    blob = await ctx.blobs.get(row.blob_key);
  } catch (err) {
    // The store's own refusals (file missing, checksum mismatch) are integrity failures of a document
    // that exists: answered like the others, without the store's message (it names the blob key).
    if (!(err instanceof AppError)) throw err;
    ctx.log.error({ documentId: row.id, reason: err.message }, 'document file missing or altered');
    throw new AppError('internal', 'The stored document failed its integrity check');
  }
  let content: Buffer;
  try {
    content = openDocument(ctx.masterKey, blob, row.wrapped_key, sealAad(row.patient_id, row.id));
  } catch {
    ctx.log.error({ documentId: row.id }, 'document failed authenticated decryption');
    throw new AppError('internal', 'The stored document failed its integrity check');
  }
  if (!sha256(content).equals(Buffer.from(row.sha256))) {
    ctx.log.error({ documentId: row.id }, 'document checksum mismatch');
    throw new AppError('internal', 'The stored document failed its integrity check');
  }
  return content;
}

export interface SearchQuery {
  status?: Array<'current' | 'superseded'>;
  category?: string[];
  classCode?: string[];
  type?: Array<{ system?: string; code: string }>;
  createdFrom?: Date;
  createdTo?: Date;
  dateFrom?: Date;
  dateTo?: Date;
  authorProfessionalIds?: string[];
  source?: 'professional' | 'patient';
  read?: boolean;
  cursor?: string;
  limit: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Lists a patient's documents the actor may see, newest first. Items are decided one by one by the
 * access decision; the page is filled from further candidates when some are hidden.
 */
export async function searchDocuments(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  query: SearchQuery,
): Promise<Page<DocumentMeta>> {
  if (query.limit < 1 || query.limit > 200) throw invalid('limit must be between 1 and 200', 'limit');
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  if (query.cursor && !after) throw invalid('The page cursor is not valid', 'cursor');
  if (query.category?.some((c) => !VAULT_CATEGORIES.some((v) => v.slug === c))) {
    throw invalid(
      `Unknown category; expected one of ${VAULT_CATEGORIES.map((v) => v.slug).join(', ')}`,
      'category',
    );
  }
  return guarded(ctx, async (tx) => {
    const visible: Array<Guarded<DocumentRow>> = [];
    let cursor = after;
    let exhausted = false;
    for (let round = 0; round < 20 && visible.length <= query.limit && !exhausted; round++) {
      // One more than the page (to know whether another follows) and a margin for hidden items;
      // the later rounds, needed only when many are hidden, read more at once.
      const batch = Math.min(
        200,
        round === 0 ? query.limit + 1 + Math.ceil(query.limit / 4) : query.limit * 2 + 1,
      );
      const candidates = await repo.listGuarded(
        tx.db,
        patientId,
        { ...query, ...(cursor ? { after: cursor } : {}) },
        batch,
      );
      exhausted = candidates.length < batch;
      visible.push(...(await filterVisible(tx, actor, patientId, 'DocumentReference', candidates)));
      const last = candidates.at(-1);
      if (last?.position) cursor = { createdAt: last.position.createdAt, id: last.position.id };
    }
    const page = visible.slice(0, query.limit);
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'search',
      entity: { type: 'DocumentReference' },
      details: { returned: page.map((g) => g.itemId) },
    });
    const items = page.map((g) => toMeta(reveal(grant, g)));
    const last = items.at(-1);
    return {
      items,
      nextCursor: visible.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  });
}

export interface MetadataChanges {
  title?: string;
  documentDate?: string;
  category?: string;
}

/** Patient edits of their own documents' title, date and category. */
export async function updateDocumentMetadata(
  ctx: Ctx,
  actor: Actor,
  id: string,
  changes: MetadataChanges,
): Promise<DocumentMeta> {
  if (changes.category && !VAULT_CATEGORIES.some((v) => v.slug === changes.category))
    throw invalid('Unknown category', 'category');
  const date = changes.documentDate ? new Date(changes.documentDate) : undefined;
  if (date && Number.isNaN(date.getTime())) throw invalid('date is not a valid date', 'date');
  if (changes.title !== undefined && (changes.title.trim() === '' || changes.title.length > 500)) {
    throw invalid('title must be 1 to 500 characters', 'title');
  }
  const found = await loadOrDeny(ctx, actor, id, 'update');
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId: found.facts.patientId,
      action: 'update',
      item: found.facts,
      entity: { type: 'DocumentReference', id },
      details: { fields: Object.keys(changes) },
    });
    const row = await repo.updateDocument(tx.db, grant, found, {
      ...(changes.title !== undefined ? { title: changes.title.trim() } : {}),
      ...(date ? { document_date: date } : {}),
      ...(changes.category ? { category: changes.category } : {}),
      updated_at: ctx.clock.now(),
    });
    return toMeta(row);
  });
}

/** Marks a document read or unread for its patient (not a change to the document itself). */
export async function setReadState(ctx: Ctx, actor: Actor, id: string, read: boolean): Promise<DocumentMeta> {
  const found = await loadOrDeny(ctx, actor, id, 'read');
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId: found.facts.patientId,
      action: 'read',
      item: found.facts,
      entity: { type: 'DocumentReference', id },
      details: { readState: read },
    });
    if (actor.kind !== 'patient' && actor.kind !== 'representative')
      throw new AppError('forbidden', 'Only the patient (or who acts for them) keeps a read state');
    return toMeta(await repo.updateDocument(tx.db, grant, found, { read_at: read ? ctx.clock.now() : null }));
  });
}

/**
 * Deletes a document: the patient their own uploads, a professional what they authored. The row
 * goes in one transaction with its audit event; the file after the commit (or by the sweep).
 */
export async function deleteDocument(ctx: Ctx, actor: Actor, id: string): Promise<void> {
  const found = await loadOrDeny(ctx, actor, id, 'delete');
  const blobKey = await guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId: found.facts.patientId,
      action: 'delete',
      item: found.facts,
      entity: { type: 'DocumentReference', id },
    });
    const row = reveal(grant, found);
    await repo.deleteDocument(tx.db, grant, found);
    return row.blob_key;
  });
  await ctx.blobs
    .delete(blobKey)
    .catch((err: unknown) => ctx.log.warn({ err, blobKey }, 'blob delete failed; the sweep will retry'));
}
