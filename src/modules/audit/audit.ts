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
  };
  action: string;
  entity: { type: string; id: string | null };
  outcome: 'success' | 'denied' | 'failure';
  basis: string | null;
  reason: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}
