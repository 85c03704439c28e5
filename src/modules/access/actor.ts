/** Who is acting. Built by the identity module from a token or session, passed explicitly everywhere. */
export type Actor = PatientActor | ProfessionalActor | SystemActor;

export interface PatientActor {
  readonly kind: 'patient';
  readonly patientId: string;
  readonly display: string;
  readonly sessionId: string;
}

export interface ProfessionalActor {
  readonly kind: 'professional';
  readonly professionalId: string;
  readonly rpps: string;
  readonly professionCode: string;
  readonly specialtyCode: string | null;
  readonly display: string;
  readonly organizationId: string;
  /** The OAuth2 client (professional software) that carries the professional's token. */
  readonly clientId: string;
}

export interface SystemActor {
  readonly kind: 'system';
  readonly display: string;
}

export function actorId(actor: Actor): string | null {
  switch (actor.kind) {
    case 'patient':
      return actor.patientId;
    case 'professional':
      return actor.rpps;
    case 'system':
      return null;
  }
}
