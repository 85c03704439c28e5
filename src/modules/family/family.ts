import { invalid } from '../../errors.ts';
import type { InvitationRole, InvitationStatus } from '../../platform/db/schema-family.ts';

/** Rules of family relationships (DOMAIN §2), without I/O. */

/** What a person may let a caregiver see or do; 'privacy' (who sees the record) is never delegated. */
export const CAREGIVER_SCOPES = [
  'documents',
  'history',
  'notifications',
  'agenda',
  'messages',
  'profile',
  'measurements',
  'vaccinations',
] as const;
export type CaregiverScope = (typeof CAREGIVER_SCOPES)[number];

/** At most 3 caregivers per person (live or invited), at most 5 people per caregiver. */
export const MAX_CAREGIVERS_PER_PERSON = 3;
export const MAX_PEOPLE_PER_CAREGIVER = 5;
/** A child has at most two legal representatives (live or invited). */
export const MAX_LEGAL_REPRESENTATIVES = 2;
/** How long an invitation waits for an answer. */
export const INVITATION_DAYS: Readonly<Record<InvitationRole, number>> = {
  caregiver: 15,
  legal_representative: 30,
};
/** A caregiver's help ends at most 5 years ahead (renewable by a new invitation). */
export const MAX_CAREGIVER_YEARS = 5;

const DAY = 86_400_000;

export function invitationExpiry(role: InvitationRole, now: Date): Date {
  return new Date(now.getTime() + INVITATION_DAYS[role] * DAY);
}

/** The status as of `now`: a pending invitation past its expiry is expired, even before the job marks it. */
export function effectiveStatus(
  row: { status: InvitationStatus; expires_at: Date | string },
  now: Date,
): InvitationStatus {
  return row.status === 'pending' && new Date(row.expires_at) <= now ? 'expired' : row.status;
}

/** Validated, deduplicated, in canonical order. */
export function parseCaregiverScopes(scopes: readonly string[]): CaregiverScope[] {
  if (scopes.includes('privacy'))
    throw invalid('Who may see the record (privacy) is never delegated to a caregiver', 'scopes');
  const unknown = scopes.filter((s) => !(CAREGIVER_SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0)
    throw invalid(`Unknown scope ${unknown.join(', ')}; expected ${CAREGIVER_SCOPES.join(', ')}`, 'scopes');
  const chosen = CAREGIVER_SCOPES.filter((s) => scopes.includes(s));
  if (chosen.length === 0) throw invalid('Choose at least one scope', 'scopes');
  return chosen;
}

/** The caregiver's end date: optional, in the future, within 5 years. */
export function parseCaregiverEnd(endsAt: string | undefined, now: Date): Date | null {
  if (endsAt === undefined) return null;
  const at = new Date(endsAt);
  if (Number.isNaN(at.getTime())) throw invalid('endsAt must be an ISO 8601 date', 'endsAt');
  if (at <= now) throw invalid('endsAt must be in the future', 'endsAt');
  const max = new Date(now);
  max.setUTCFullYear(max.getUTCFullYear() + MAX_CAREGIVER_YEARS);
  if (at > max) throw invalid(`A caregiver's help lasts at most ${MAX_CAREGIVER_YEARS} years`, 'endsAt');
  return at;
}

/** A matricule as the INS writes it: 15 characters, digits (2A/2B for Corsica), no spaces. */
export function normalizeMatricule(input: string): string {
  const m = input.replace(/\s+/g, '').toUpperCase();
  if (!/^[0-9][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{8}$/.test(m))
    throw invalid('matricule must be 15 characters (NIR or NIA)', 'matricule');
  return m;
}

/** The date (YYYY-MM-DD) in Paris at `now`. */
export function parisDate(now: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Paris',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}

/** The same calendar date `years` earlier (string arithmetic: 29 February stays, compares right). */
export function yearsBefore(date: string, years: number): string {
  return `${String(Number(date.slice(0, 4)) - years).padStart(4, '0')}${date.slice(4)}`;
}

export type ProfileKind = 'self' | 'child' | 'protected_adult' | 'assisted_person';

export function profileKind(role: string | null): ProfileKind {
  switch (role) {
    case 'legal_representative':
      return 'child';
    case 'guardian':
      return 'protected_adult';
    default:
      return 'assisted_person';
  }
}

const SCOPE_LABELS: Readonly<Record<CaregiverScope, { fr: string; en: string }>> = {
  documents: { fr: 'Documents', en: 'Documents' },
  history: { fr: "Historique d'activité", en: 'Activity history' },
  notifications: { fr: 'Notifications', en: 'Notifications' },
  agenda: { fr: 'Agenda', en: 'Agenda' },
  messages: { fr: 'Messagerie', en: 'Messages' },
  profile: { fr: 'Profil médical', en: 'Medical profile' },
  measurements: { fr: 'Mesures', en: 'Measurements' },
  vaccinations: { fr: 'Vaccinations', en: 'Vaccinations' },
};

export function scopeLabel(scope: string, language: 'fr' | 'en'): string {
  return (SCOPE_LABELS as Record<string, { fr: string; en: string } | undefined>)[scope]?.[language] ?? scope;
}
