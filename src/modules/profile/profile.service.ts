import { AppError, invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { uuidv7 } from '../../platform/ids.ts';
import {
  guarded,
  locateOrDeny as locateItem,
  requireAccess,
  type Actor,
  type Grant,
} from '../access/index.ts';
import { getPatient, majorityAt } from '../identity/index.ts';
import * as repo from './profile.repository.ts';
import {
  authorOf,
  canonical,
  changedFields,
  lockReason,
  type ProfileAuthor,
  type ProfileChange,
  type ProfileEntry,
  type ProfileSection,
} from './profile.ts';
import { SECTION_KIND, SECTIONS, validateFields, type Section } from './sections.ts';

/** Reading and changing the medical profile (DOMAIN §6); every path goes through the access gate. */

const ENTITY = 'Profile';

function assemble(
  sections: readonly Section[],
  entries: ProfileEntry[],
  states: repo.SectionStateRow[],
): ProfileSection[] {
  return sections.map((section) => {
    const own = entries.filter((e) => e.section === section);
    const state = states.find((s) => s.section === section);
    return {
      section,
      kind: SECTION_KIND[section],
      state: own.length > 0 ? 'entries' : state?.notConcerned ? 'not_concerned' : 'unknown',
      entries: own,
      declared: state?.notConcerned && own.length === 0 ? { at: state.at, author: state.author } : null,
    };
  });
}

async function sectionsOf(tx: Ctx, grant: Grant, section?: Section): Promise<ProfileSection[]> {
  const [entries, states] = await Promise.all([
    repo.listCurrent(tx.db, grant, section),
    repo.listSectionStates(tx.db, grant, section),
  ]);
  return assemble(section ? [section] : SECTIONS, entries, states);
}

/**
 * The whole profile (or one section) of a person, as the actor may read it.
 * @example const sections = await readProfile(ctx, actor, patientId);
 */
export async function readProfile(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  section?: Section,
): Promise<ProfileSection[]> {
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'read',
      entity: { type: ENTITY },
      ...(section ? { details: { section } } : {}),
    });
    return sectionsOf(tx, grant, section);
  });
}

/** The calendar day (YYYY-MM-DD) of an instant in Paris. */
function parisDay(at: Date): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Paris' }).format(at);
}

/** Refuses advance directives for a minor, saying until when (DOMAIN §6). */
async function assertAdult(tx: Ctx, patientId: string): Promise<void> {
  const person = await getPatient(tx, patientId);
  if (!person) throw new AppError('not_found', 'Not found');
  const majority = majorityAt(person.birthDate);
  if (majority.getTime() > tx.clock.now().getTime()) {
    throw new AppError(
      'forbidden',
      `Advance directives are for adults: this person (born ${person.birthDate}) is a minor until ${parisDay(majority)}`,
      'section',
    );
  }
}

export interface Placement {
  section: Section;
  fields: Record<string, unknown>;
  author: ProfileAuthor;
  source?: string;
  externalId?: string;
  idempotencyKey?: string;
}

/**
 * Writes a new entry inside an open transaction with a create grant: checks the section's rules,
 * replaces the current value of a single-value section, clears "not concerned", keeps history.
 */
export async function place(tx: Ctx, grant: Grant, actor: Actor, p: Placement): Promise<ProfileEntry> {
  const now = tx.clock.now();
  if (p.section === 'advance-directives') await assertAdult(tx, grant.patientId);
  const id = uuidv7(now.getTime());
  const previous =
    SECTION_KIND[p.section] === 'single' ? await repo.listCurrent(tx.db, grant, p.section) : [];
  for (const old of previous) {
    const reason = lockReason(actor, old.author);
    if (reason) throw new AppError('forbidden', `${reason}; the current value cannot be replaced`);
  }
  const entry = await repo.insertEntry(
    tx.db,
    grant,
    {
      id,
      section: p.section,
      fields: p.fields,
      author: p.author,
      source: p.source ?? null,
      externalId: p.externalId ?? null,
      idempotencyKey: p.idempotencyKey ?? null,
    },
    now,
  );
  await repo.recordChange(
    tx.db,
    grant,
    {
      section: p.section,
      entryId: id,
      change: 'created',
      author: p.author,
      changed: Object.keys(p.fields).sort(),
      fields: p.fields,
    },
    now,
  );
  for (const old of previous) {
    await repo.updateEntry(tx.db, grant, old.id, { status: 'replaced', replacedBy: id }, now);
    await repo.recordChange(
      tx.db,
      grant,
      {
        section: p.section,
        entryId: old.id,
        change: 'replaced',
        author: p.author,
        changed: [],
        fields: old.fields,
      },
      now,
    );
  }
  const [state] = await repo.listSectionStates(tx.db, grant, p.section);
  if (state?.notConcerned) {
    await repo.setSectionState(tx.db, grant, p.section, false, p.author, now);
    await repo.recordChange(
      tx.db,
      grant,
      { section: p.section, entryId: null, change: 'concerned', author: p.author, changed: [], fields: null },
      now,
    );
  }
  return entry;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

/**
 * Adds an entry to a section. A request re-sent with the same Idempotency-Key returns the entry it
 * created (replayed: true) and writes nothing.
 * @example const { entry } = await addEntry(ctx, actor, patientId, 'allergies', { substance: { text: 'Pollen' } });
 */
export async function addEntry(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  section: Section,
  input: unknown,
  options: { idempotencyKey?: string } = {},
): Promise<{ entry: ProfileEntry; replayed: boolean }> {
  const key = options.idempotencyKey;
  if (key !== undefined && !KEY_PATTERN.test(key))
    throw invalid('Idempotency-Key must be 1 to 200 printable characters', 'Idempotency-Key');
  const fields = validateFields(section, input);
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'create',
      entity: { type: ENTITY },
      details: { section },
    });
    if (key !== undefined) {
      const done = await repo.findByIdempotencyKey(tx.db, grant, key);
      if (done) {
        if (done.section !== section || canonical(done.fields) !== canonical(fields))
          throw new AppError('conflict', 'This Idempotency-Key was already used for another request');
        return { entry: done, replayed: true };
      }
    }
    const entry = await place(tx, grant, actor, {
      section,
      fields,
      author: authorOf(actor),
      ...(key !== undefined ? { idempotencyKey: key } : {}),
    });
    return { entry, replayed: false };
  });
}

/** Finds which record an entry id belongs to, or records the denial and answers 404. */
function locateOrDeny(
  ctx: Ctx,
  actor: Actor,
  id: string,
  action: 'read' | 'update' | 'delete',
): Promise<string> {
  return locateItem(
    ctx,
    actor,
    { type: ENTITY, id, action },
    async (db, entryId) => (await repo.locateEntry(db, entryId))?.patientId,
  );
}

async function openEntry(
  tx: Ctx,
  actor: Actor,
  patientId: string,
  id: string,
  action: 'read' | 'update' | 'delete',
): Promise<{ grant: Grant; entry: ProfileEntry }> {
  const grant = await requireAccess(tx, actor, { patientId, action, entity: { type: ENTITY, id } });
  const entry = await repo.findEntry(tx.db, grant, id);
  if (!entry) throw new AppError('not_found', 'Not found');
  return { grant, entry };
}

function assertChangeable(actor: Actor, entry: ProfileEntry): void {
  const reason = lockReason(actor, entry.author);
  if (reason) throw new AppError('forbidden', reason);
  if (entry.status !== 'current')
    throw new AppError('conflict', `This entry is no longer current (${entry.status})`);
}

/**
 * Changes some fields of an entry: the given fields replace the old ones, null removes an optional
 * field; the result is validated as a whole. Locked entries answer 403 with the reason.
 * @example await updateEntry(ctx, actor, id, { severity: 'severe', note: null });
 */
export async function updateEntry(
  ctx: Ctx,
  actor: Actor,
  id: string,
  patch: Record<string, unknown>,
): Promise<ProfileEntry> {
  const patientId = await locateOrDeny(ctx, actor, id, 'update');
  return guarded(ctx, async (tx) => {
    const { grant, entry } = await openEntry(tx, actor, patientId, id, 'update');
    assertChangeable(actor, entry);
    const merged: Record<string, unknown> = { ...entry.fields };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    const fields = validateFields(entry.section, merged);
    const changed = changedFields(entry.fields, fields);
    if (changed.length === 0) return entry;
    const now = tx.clock.now();
    const updated = await repo.updateEntry(tx.db, grant, id, { fields }, now);
    await repo.recordChange(
      tx.db,
      grant,
      { section: entry.section, entryId: id, change: 'updated', author: authorOf(actor), changed, fields },
      now,
    );
    return updated;
  });
}

/**
 * Deletes an entry: it leaves the profile but stays in its history.
 * @example await deleteEntry(ctx, actor, id);
 */
export async function deleteEntry(ctx: Ctx, actor: Actor, id: string): Promise<void> {
  const patientId = await locateOrDeny(ctx, actor, id, 'delete');
  await guarded(ctx, async (tx) => {
    const { grant, entry } = await openEntry(tx, actor, patientId, id, 'delete');
    assertChangeable(actor, entry);
    const now = tx.clock.now();
    await repo.updateEntry(tx.db, grant, id, { status: 'deleted' }, now);
    await repo.recordChange(
      tx.db,
      grant,
      {
        section: entry.section,
        entryId: id,
        change: 'deleted',
        author: authorOf(actor),
        changed: [],
        fields: entry.fields,
      },
      now,
    );
  });
}

/**
 * Who changed an entry, when and what: creation, edits, replacement, deletion.
 * @example const changes = await entryHistory(ctx, actor, id);
 */
export async function entryHistory(
  ctx: Ctx,
  actor: Actor,
  id: string,
): Promise<{ entry: ProfileEntry; changes: ProfileChange[] }> {
  const patientId = await locateOrDeny(ctx, actor, id, 'read');
  return guarded(ctx, async (tx) => {
    const { grant, entry } = await openEntry(tx, actor, patientId, id, 'read');
    return { entry, changes: await repo.listChanges(tx.db, grant, id) };
  });
}

/**
 * Declares a list section "not concerned" (true) or takes the declaration back (false). Refused
 * while the section has current entries.
 * @example await setNotConcerned(ctx, actor, patientId, 'allergies', true);
 */
export async function setNotConcerned(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  section: Section,
  notConcerned: boolean,
): Promise<ProfileSection> {
  if (SECTION_KIND[section] !== 'list')
    throw invalid(
      `Only list sections can be declared "not concerned"; ${section} holds a single value`,
      'section',
    );
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'update',
      entity: { type: ENTITY },
      details: { section, notConcerned },
    });
    const live = await repo.listCurrent(tx.db, grant, section);
    if (notConcerned && live.length > 0) {
      throw new AppError(
        'conflict',
        `The section ${section} has ${live.length} current entr${live.length === 1 ? 'y' : 'ies'}: delete ${live.length === 1 ? 'it' : 'them'} before declaring "not concerned"`,
      );
    }
    const [state] = await repo.listSectionStates(tx.db, grant, section);
    if ((state?.notConcerned ?? false) !== notConcerned) {
      const now = tx.clock.now();
      const author = authorOf(actor);
      await repo.setSectionState(tx.db, grant, section, notConcerned, author, now);
      await repo.recordChange(
        tx.db,
        grant,
        {
          section,
          entryId: null,
          change: notConcerned ? 'not_concerned' : 'concerned',
          author,
          changed: [],
          fields: null,
        },
        now,
      );
    }
    const [result] = await sectionsOf(tx, grant, section);
    if (!result) throw new AppError('internal', 'section vanished');
    return result;
  });
}
