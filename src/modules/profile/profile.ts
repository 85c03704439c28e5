import type { Actor } from '../access/index.ts';
import { actorId } from '../access/index.ts';
import type { ProfileAuthorKind, ProfileChangeKind } from '../../platform/db/schema-profile.ts';
import type { Section } from './sections.ts';

/** Types of the medical profile and the pure rules over them (who may change an entry). */

export interface ProfileAuthor {
  kind: ProfileAuthorKind;
  id: string | null;
  display: string;
}

export interface ProfileEntry {
  id: string;
  section: Section;
  fields: Record<string, unknown>;
  status: 'current' | 'replaced' | 'deleted';
  author: ProfileAuthor;
  source: string | null;
  externalId: string | null;
  replacedBy: string | null;
  createdAt: string;
  updatedAt: string;
  /** True when the patient's side may no longer change it (added by a professional or imported). */
  locked: boolean;
}

export type SectionState = 'unknown' | 'not_concerned' | 'entries';

export interface ProfileSection {
  section: Section;
  kind: 'list' | 'single';
  state: SectionState;
  entries: ProfileEntry[];
  /** Who declared "not concerned", when. */
  declared: { at: string; author: ProfileAuthor } | null;
}

export interface ProfileChange {
  id: string;
  entryId: string | null;
  section: Section;
  change: ProfileChangeKind;
  at: string;
  author: ProfileAuthor;
  changed: string[];
  fields: Record<string, unknown> | null;
}

/** Author kinds whose entries are locked for the person and their representatives. */
export const LOCKED_KINDS: readonly ProfileAuthorKind[] = ['professional', 'import'];

/** How the author of a change is recorded. */
export function authorOf(actor: Actor): ProfileAuthor {
  const kind: ProfileAuthorKind =
    actor.kind === 'patient' ||
    actor.kind === 'representative' ||
    actor.kind === 'app' ||
    actor.kind === 'professional'
      ? actor.kind
      : 'import';
  return { kind, id: actorId(actor), display: actor.display };
}

/**
 * Why this actor may not change the entry, or null when they may. Entries a professional added or
 * an import brought are locked for the patient's side (patient, representative, app).
 */
export function lockReason(actor: Actor, author: ProfileAuthor): string | null {
  if (!LOCKED_KINDS.includes(author.kind)) return null;
  if (actor.kind === 'professional' && author.kind === 'professional' && author.id === actorId(actor))
    return null;
  if (actor.kind === 'system') return null;
  return author.kind === 'professional'
    ? 'Entries added by a professional cannot be changed or deleted by the patient'
    : 'Imported entries cannot be changed or deleted by the patient';
}

/** Top-level field names whose values differ. */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => canonical(before[k]) !== canonical(after[k])).sort();
}

/** JSON with object keys sorted (jsonb does not keep the order they came in): for comparisons. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)))
      : v,
  );
}
