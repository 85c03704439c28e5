import type { StoredAuditEvent } from './audit.ts';

/**
 * One line of a person's activity history, as shown and downloaded: who, in what role, did what,
 * when, with what outcome, on what legal basis. Internal fields (request ids, reasons, clients)
 * stay out.
 */
export interface HistoryEntry {
  id: string;
  seq: string;
  patientId: string;
  at: Date;
  actor: {
    kind: string;
    id: string | null;
    display: string;
    /** The professional's profession (TRE_G15), when known. */
    profession?: { code: string; label: string };
    /** A business identifier of the actor (a professional's IDNPS), for the FHIR download. */
    identifier?: { system: string; value: string };
  };
  action: string;
  entity: { type: string; id: string | null };
  outcome: 'success' | 'denied' | 'failure';
  basis: string | null;
}

export const HIDDEN_PERSON = 'Une autre personne';

/** What the audit module cannot know itself: names and identifiers owned by the identity module. */
export interface ActorLookups {
  professionLabel(code: string): string | undefined;
  professionalIdentifier(rpps: string): { system: string; value: string } | undefined;
}

/**
 * Shapes a stored event for the record's owner. Someone else's attempt on the record is shown, but
 * not who they are: their identity is theirs.
 * @example presentHistoryEntry(event, patientId, { professionLabel, professionalIdentifier })
 */
export function presentHistoryEntry(
  event: StoredAuditEvent,
  patientId: string,
  lookups: ActorLookups,
): HistoryEntry {
  const { actor } = event;
  const stranger =
    (actor.kind === 'patient' && actor.id !== patientId) ||
    (actor.kind === 'representative' && event.outcome !== 'success');
  const label = actor.professionCode ? lookups.professionLabel(actor.professionCode) : undefined;
  const identifier =
    actor.kind === 'professional' && actor.id ? lookups.professionalIdentifier(actor.id) : undefined;
  return {
    id: event.id,
    seq: event.seq,
    patientId,
    at: event.recordedAt,
    actor: stranger
      ? { kind: actor.kind, id: null, display: HIDDEN_PERSON }
      : {
          kind: actor.kind,
          id: actor.id,
          display: actor.display,
          ...(actor.professionCode && label ? { profession: { code: actor.professionCode, label } } : {}),
          ...(identifier ? { identifier } : {}),
        },
    action: event.action,
    entity: event.entity,
    outcome: event.outcome,
    basis: event.basis,
  };
}
