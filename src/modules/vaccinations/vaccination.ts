import type { Actor } from '../access/index.ts';
import type { VaccinationAuthorKind } from '../../platform/db/schema-vaccinations.ts';

/** A vaccination entry as the services and routes see it (DOMAIN §6). */
export interface Vaccination {
  id: string;
  patientId: string;
  status: 'completed' | 'not-done';
  statusReason: string | null;
  product: { system: string | null; code: string | null; display: string };
  targetDiseases: string[];
  date: string;
  lotNumber: string | null;
  vaccinator: { rpps: string | null; display: string } | null;
  kind: 'primary' | 'booster' | 'catch-up' | null;
  doseNumber: number | null;
  comment: string | null;
  author: { kind: VaccinationAuthorKind; id: string | null; display: string };
  confirmed: { at: string; byId: string | null; byDisplay: string } | null;
  source: string | null;
  externalId: string | null;
  extra: Record<string, unknown> | null;
  version: number;
  createdAt: string;
  updatedAt: string;
  /** True when this entry may no longer be changed by the patient (added or confirmed by a professional). */
  locked: boolean;
}

export interface VaccinationInput {
  status?: 'completed' | 'not-done';
  statusReason?: string | null;
  product: { system?: string | null; code?: string | null; display: string };
  targetDiseases?: string[];
  date: string;
  lotNumber?: string | null;
  vaccinator?: { rpps?: string | null; display: string } | null;
  kind?: 'primary' | 'booster' | 'catch-up' | null;
  doseNumber?: number | null;
  comment?: string | null;
  extra?: Record<string, unknown> | null;
}

export type VaccinationChanges = Partial<Omit<VaccinationInput, 'extra'>>;

export function authorKindOf(actor: Actor): VaccinationAuthorKind {
  switch (actor.kind) {
    case 'patient':
    case 'representative':
    case 'app':
    case 'professional':
      return actor.kind;
    default:
      return 'import';
  }
}

/**
 * Who may change or delete an entry after its creation: undefined when allowed, else the reason.
 * Entries added or confirmed by a professional are locked for the patient and those acting for them;
 * a professional changes only their own entries; an app only its own.
 */
export function changeRefusal(entry: Vaccination, actor: Actor, actorId: string | null): string | undefined {
  switch (actor.kind) {
    case 'patient':
    case 'representative':
      if (entry.author.kind === 'professional')
        return 'This vaccination was recorded by a professional: it cannot be changed or deleted by the patient';
      if (entry.confirmed)
        return 'This vaccination was confirmed by a professional: it cannot be changed or deleted by the patient';
      return undefined;
    case 'app':
      return entry.author.kind === 'app' && entry.author.id === actorId && !entry.confirmed
        ? undefined
        : 'An app may change only the unconfirmed entries it recorded';
    case 'professional':
      return entry.author.kind === 'professional' && entry.author.id === actorId
        ? undefined
        : 'A professional may change only the entries they recorded (or confirm a patient entry)';
    default:
      return undefined;
  }
}
