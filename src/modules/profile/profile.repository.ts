import type { Queryable } from '../../platform/db/database.ts';
import type { ProfileAuthorKind, ProfileChangeKind } from '../../platform/db/schema-profile.ts';
import { uuidv7 } from '../../platform/ids.ts';
import type { Grant } from '../access/index.ts';
import type { ProfileAuthor, ProfileChange, ProfileEntry } from './profile.ts';
import { LOCKED_KINDS } from './profile.ts';
import type { Section } from './sections.ts';

/**
 * SQL of the medical profile — and nothing else. Every function touching a person's profile takes
 * the Grant the access gate gave for that person, and reads or writes only within it.
 */

interface EntryRow {
  patient_id: string;
  id: string;
  section: string;
  fields: unknown;
  status: 'current' | 'replaced' | 'deleted';
  author_kind: ProfileAuthorKind;
  author_id: string | null;
  author_display: string;
  source: string | null;
  external_id: string | null;
  replaced_by: string | null;
  created_at: Date;
  updated_at: Date;
}

function iso(value: Date | string): string {
  return new Date(value).toISOString();
}

function toEntry(row: EntryRow): ProfileEntry {
  return {
    id: row.id,
    section: row.section as Section,
    fields: row.fields as Record<string, unknown>,
    status: row.status,
    author: { kind: row.author_kind, id: row.author_id, display: row.author_display },
    source: row.source,
    externalId: row.external_id,
    replacedBy: row.replaced_by,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    locked: LOCKED_KINDS.includes(row.author_kind),
  };
}

/** Which person an entry belongs to (no health data): to ask the gate about the right record. */
export async function locateEntry(db: Queryable, id: string): Promise<{ patientId: string } | undefined> {
  const row = await db
    .selectFrom('profile_entries')
    .select('patient_id')
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? { patientId: row.patient_id } : undefined;
}

export async function findEntry(db: Queryable, grant: Grant, id: string): Promise<ProfileEntry | undefined> {
  const row = await db
    .selectFrom('profile_entries')
    .selectAll()
    .where('patient_id', '=', grant.patientId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toEntry(row) : undefined;
}

export async function findByIdempotencyKey(
  db: Queryable,
  grant: Grant,
  key: string,
): Promise<ProfileEntry | undefined> {
  const row = await db
    .selectFrom('profile_entries')
    .selectAll()
    .where('patient_id', '=', grant.patientId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  return row ? toEntry(row) : undefined;
}

export async function findByExternalId(
  db: Queryable,
  grant: Grant,
  source: string,
  externalId: string,
): Promise<ProfileEntry | undefined> {
  const row = await db
    .selectFrom('profile_entries')
    .selectAll()
    .where('patient_id', '=', grant.patientId)
    .where('source', '=', source)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  return row ? toEntry(row) : undefined;
}

/** The current entries of the record (of one section when given), oldest first. */
export async function listCurrent(db: Queryable, grant: Grant, section?: Section): Promise<ProfileEntry[]> {
  let q = db
    .selectFrom('profile_entries')
    .selectAll()
    .where('patient_id', '=', grant.patientId)
    .where('status', '=', 'current');
  if (section) q = q.where('section', '=', section);
  const rows = await q.orderBy('created_at').orderBy('id').execute();
  return rows.map(toEntry);
}

export interface SectionStateRow {
  section: Section;
  notConcerned: boolean;
  at: string;
  author: ProfileAuthor;
}

export async function listSectionStates(
  db: Queryable,
  grant: Grant,
  section?: Section,
): Promise<SectionStateRow[]> {
  let q = db.selectFrom('profile_sections').selectAll().where('patient_id', '=', grant.patientId);
  if (section) q = q.where('section', '=', section);
  const rows = await q.execute();
  return rows.map((r) => ({
    section: r.section as Section,
    notConcerned: r.not_concerned,
    at: iso(r.updated_at),
    author: { kind: r.author_kind as ProfileAuthorKind, id: r.author_id, display: r.author_display },
  }));
}

export async function setSectionState(
  db: Queryable,
  grant: Grant,
  section: Section,
  notConcerned: boolean,
  author: ProfileAuthor,
  at: Date,
): Promise<void> {
  const values = {
    not_concerned: notConcerned,
    updated_at: at,
    author_kind: author.kind,
    author_id: author.id,
    author_display: author.display,
  };
  await db
    .insertInto('profile_sections')
    .values({ patient_id: grant.patientId, section, ...values })
    .onConflict((oc) => oc.columns(['patient_id', 'section']).doUpdateSet(values))
    .execute();
}

export interface NewEntry {
  id: string;
  section: Section;
  fields: Record<string, unknown>;
  author: ProfileAuthor;
  source?: string | null;
  externalId?: string | null;
  idempotencyKey?: string | null;
}

export async function insertEntry(
  db: Queryable,
  grant: Grant,
  entry: NewEntry,
  at: Date,
): Promise<ProfileEntry> {
  const row = await db
    .insertInto('profile_entries')
    .values({
      patient_id: grant.patientId,
      id: entry.id,
      section: entry.section,
      fields: JSON.stringify(entry.fields),
      status: 'current',
      author_kind: entry.author.kind,
      author_id: entry.author.id,
      author_display: entry.author.display,
      source: entry.source ?? null,
      external_id: entry.externalId ?? null,
      idempotency_key: entry.idempotencyKey ?? null,
      created_at: at,
      updated_at: at,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toEntry(row);
}

export async function updateEntry(
  db: Queryable,
  grant: Grant,
  id: string,
  changes: {
    fields?: Record<string, unknown>;
    status?: 'current' | 'replaced' | 'deleted';
    replacedBy?: string;
  },
  at: Date,
): Promise<ProfileEntry> {
  const row = await db
    .updateTable('profile_entries')
    .set({
      updated_at: at,
      ...(changes.fields ? { fields: JSON.stringify(changes.fields) } : {}),
      ...(changes.status ? { status: changes.status } : {}),
      ...(changes.status === 'deleted' ? { deleted_at: at } : {}),
      ...(changes.replacedBy ? { replaced_by: changes.replacedBy } : {}),
    })
    .where('patient_id', '=', grant.patientId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toEntry(row);
}

export async function recordChange(
  db: Queryable,
  grant: Grant,
  change: {
    section: Section;
    entryId: string | null;
    change: ProfileChangeKind;
    author: ProfileAuthor;
    changed: string[];
    fields: Record<string, unknown> | null;
  },
  at: Date,
): Promise<void> {
  await db
    .insertInto('profile_entry_changes')
    .values({
      patient_id: grant.patientId,
      id: uuidv7(at.getTime()),
      section: change.section,
      entry_id: change.entryId,
      change: change.change,
      at,
      author_kind: change.author.kind,
      author_id: change.author.id,
      author_display: change.author.display,
      changed: JSON.stringify(change.changed),
      fields: change.fields ? JSON.stringify(change.fields) : null,
    })
    .execute();
}

export async function listChanges(db: Queryable, grant: Grant, entryId: string): Promise<ProfileChange[]> {
  const rows = await db
    .selectFrom('profile_entry_changes')
    .selectAll()
    .where('patient_id', '=', grant.patientId)
    .where('entry_id', '=', entryId)
    .orderBy('at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    entryId: r.entry_id,
    section: r.section as Section,
    change: r.change,
    at: iso(r.at),
    author: { kind: r.author_kind as ProfileAuthorKind, id: r.author_id, display: r.author_display },
    changed: r.changed as string[],
    fields: (r.fields as Record<string, unknown> | null) ?? null,
  }));
}
