/** An audit event as the rest of the code sees it (FHIR AuditEvent in spirit, IHE BALP shape). */
export interface AuditEvent {
  id: string;
  patientId: string | null;
  recordedAt: Date;
  actor: {
    kind: string;
    id: string | null;
    display: string;
    organizationId: string | null;
    clientId: string | null;
    /** TRE_G15 profession code of a professional actor, when the gate knew it. */
    professionCode: string | null;
  };
  action: string;
  entity: { type: string; id: string | null };
  outcome: 'success' | 'denied' | 'failure';
  basis: string | null;
  reason: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

/** What the gate records; `actor.professionCode` is optional so that callers may leave it out. */
export interface NewAuditEvent extends Omit<AuditEvent, 'id' | 'actor'> {
  actor: Omit<AuditEvent['actor'], 'professionCode'> & { professionCode?: string | null };
}

/** A stored event with its insertion order (the history's paging key). */
export type StoredAuditEvent = AuditEvent & { seq: string };

/**
 * The three tabs of the activity history (DOMAIN §5): the person themself with their
 * representatives and caregivers, professionals, connected apps.
 */
export type HistoryTab = 'mine' | 'professionals' | 'apps';

export const ACTOR_KINDS_BY_TAB: Readonly<Record<HistoryTab, readonly string[]>> = {
  mine: ['patient', 'representative'],
  professionals: ['professional'],
  apps: ['app'],
};
