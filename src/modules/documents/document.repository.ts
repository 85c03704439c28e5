import { sql } from 'kysely';
import type { Queryable } from '../../platform/db/database.ts';
import type { DocumentRow, NewDocumentRow } from '../../platform/db/schema.ts';
import { guard, reveal, type Grant, type Guarded } from '../access/index.ts';
import { factsOf } from './document.ts';

/**
 * SQL for documents and submission sets — and nothing else. Reads return Guarded rows, opened only
 * with a Grant from the access gate; writes require a Grant. A query around the gate does not compile.
 */

function guardRow(row: DocumentRow): Guarded<DocumentRow> {
  return guard(row.id, factsOf(row), row, { createdAt: new Date(row.created_at), id: row.id });
}

export async function findGuardedById(db: Queryable, id: string): Promise<Guarded<DocumentRow> | undefined> {
  const row = await db.selectFrom('documents').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? guardRow(row) : undefined;
}

export async function findGuardedByMasterIdentifier(
  db: Queryable,
  patientId: string,
  masterIdentifier: string,
): Promise<Guarded<DocumentRow> | undefined> {
  const row = await db
    .selectFrom('documents')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('master_identifier', '=', masterIdentifier)
    .executeTakeFirst();
  return row ? guardRow(row) : undefined;
}

export interface DocumentFilter {
  status?: Array<'current' | 'superseded'>;
  category?: string[];
  classCode?: string[];
  type?: Array<{ system?: string; code: string }>;
  /** Received (created_at) range. */
  createdFrom?: Date;
  createdTo?: Date;
  /** Clinical date range. */
  dateFrom?: Date;
  dateTo?: Date;
  authorProfessionalIds?: string[];
  source?: 'professional' | 'patient';
  read?: boolean;
  after?: { createdAt: Date; id: string };
}

export async function listGuarded(
  db: Queryable,
  patientId: string,
  filter: DocumentFilter,
  limit: number,
): Promise<Array<Guarded<DocumentRow>>> {
  let q = db.selectFrom('documents').selectAll().where('patient_id', '=', patientId);
  if (filter.status?.length) q = q.where('status', 'in', filter.status);
  if (filter.category?.length) q = q.where('category', 'in', filter.category);
  if (filter.classCode?.length) q = q.where('class_code', 'in', filter.classCode);
  if (filter.type?.length) {
    const types = filter.type;
    q = q.where((eb) =>
      eb.or(
        types.map((t) =>
          t.system
            ? eb.and([eb('type_code', '=', t.code), eb('type_system', '=', t.system)])
            : eb('type_code', '=', t.code),
        ),
      ),
    );
  }
  if (filter.createdFrom) q = q.where('created_at', '>=', filter.createdFrom);
  if (filter.createdTo) q = q.where('created_at', '<', filter.createdTo);
  if (filter.dateFrom) q = q.where('document_date', '>=', filter.dateFrom);
  if (filter.dateTo) q = q.where('document_date', '<', filter.dateTo);
  if (filter.authorProfessionalIds) {
    if (filter.authorProfessionalIds.length === 0) return [];
    q = q.where('author_professional_id', 'in', filter.authorProfessionalIds);
  }
  if (filter.source) q = q.where('source', '=', filter.source);
  if (filter.read !== undefined) q = q.where('read_at', filter.read ? 'is not' : 'is', null);
  if (filter.after) {
    const { createdAt, id } = filter.after;
    q = q.where(sql<boolean>`(created_at, id) < (${createdAt}, ${id})`);
  }
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map(guardRow);
}

export async function insertDocument(db: Queryable, grant: Grant, row: NewDocumentRow): Promise<void> {
  if (row.patient_id !== grant.patientId) throw new Error('grant/patient mismatch');
  await db.insertInto('documents').values(row).execute();
}

export async function insertSubmissionSet(
  db: Queryable,
  grant: Grant,
  row: {
    id: string;
    master_identifier: string | null;
    source_id: string | null;
    author_professional_id: string | null;
    created_at: Date;
  },
): Promise<void> {
  await db
    .insertInto('submission_sets')
    .values({ ...row, patient_id: grant.patientId })
    .execute();
}

export async function findSubmissionSetByMasterIdentifier(
  db: Queryable,
  grant: Grant,
  masterIdentifier: string,
): Promise<{ id: string; documentIds: string[] } | undefined> {
  const set = await db
    .selectFrom('submission_sets')
    .select('id')
    .where('patient_id', '=', grant.patientId)
    .where('master_identifier', '=', masterIdentifier)
    .executeTakeFirst();
  if (!set) return undefined;
  const docs = await db
    .selectFrom('documents')
    .select('id')
    .where('patient_id', '=', grant.patientId)
    .where('submission_set_id', '=', set.id)
    .orderBy('id')
    .execute();
  return { id: set.id, documentIds: docs.map((d) => d.id) };
}

export async function updateDocument(
  db: Queryable,
  grant: Grant,
  target: Guarded<DocumentRow>,
  changes: Partial<
    Pick<
      DocumentRow,
      | 'title'
      | 'document_date'
      | 'category'
      | 'status'
      | 'read_at'
      | 'updated_at'
      | 'masked'
      | 'release_notice_at'
      | 'released_at'
    >
  >,
): Promise<DocumentRow> {
  const row = reveal(grant, target);
  const updated = await db
    .updateTable('documents')
    .set(changes)
    .where('patient_id', '=', row.patient_id)
    .where('id', '=', row.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return updated;
}

export async function deleteDocument(
  db: Queryable,
  grant: Grant,
  target: Guarded<DocumentRow>,
): Promise<void> {
  const row = reveal(grant, target);
  await db
    .deleteFrom('documents')
    .where('patient_id', '=', row.patient_id)
    .where('id', '=', row.id)
    .execute();
}

/** For the orphan sweep: which of these document ids exist (no health data is read). */
export async function existingDocumentIds(
  db: Queryable,
  patientId: string,
  ids: string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom('documents')
    .select('id')
    .where('patient_id', '=', patientId)
    .where('id', 'in', ids)
    .execute();
  return new Set(rows.map((r) => r.id));
}

/** Delayed documents due for their 2-week notice or their release (no health data is returned unguarded). */
export async function listPendingReleases(
  db: Queryable,
  now: Date,
  noticeBefore: Date,
  limit: number,
): Promise<Array<Guarded<DocumentRow>>> {
  const rows = await db
    .selectFrom('documents')
    .selectAll()
    .where('release_at', 'is not', null)
    .where('released_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb('release_at', '<=', now),
        eb.and([eb('release_notice_at', 'is', null), eb('created_at', '<=', noticeBefore)]),
      ]),
    )
    .orderBy('release_at')
    .limit(limit)
    .execute();
  return rows.map(guardRow);
}
