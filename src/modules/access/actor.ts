/**
 * Who is acting. Built at the edge (session, token) and passed explicitly everywhere; never kept in
 * globals or AsyncLocalStorage.
 */
export type Actor =
  PatientActor | RepresentativeActor | ProfessionalActor | AppActor | OperatorActor | SystemActor;

/** A person acting on their own record (or, through `RepresentativeActor`, on another's). */
export interface PatientActor {
  readonly kind: 'patient';
  readonly patientId: string;
  readonly display: string;
  readonly sessionId: string;
}

/**
 * A person acting in someone else's record: a legal representative (parent, guardian) or a
 * caregiver the person appointed. The relationship itself (scope, end date) is checked by the
 * decision against the record's access rules, not trusted from here.
 */
export interface RepresentativeActor {
  readonly kind: 'representative';
  /** The acting person's own patient id. */
  readonly personId: string;
  readonly display: string;
  readonly sessionId: string;
}

export interface ProfessionalActor {
  readonly kind: 'professional';
  readonly professionalId: string;
  readonly rpps: string;
  /** TRE_G15 profession code (10 médecin, 21 pharmacien, 60 infirmier…). */
  readonly professionCode: string;
  readonly specialtyCode: string | null;
  readonly display: string;
  readonly organizationId: string;
  /** The OAuth2 client (professional software) that carries the professional's token. */
  readonly clientId: string;
  /** True for the emergency medical regulation (SAMU, centre 15) acting on a call. */
  readonly emergencyRegulator?: boolean;
}

/** A referenced third-party app acting with the person's consent (catalogue). */
export interface AppActor {
  readonly kind: 'app';
  readonly appId: string;
  readonly display: string;
  readonly scopes: readonly string[];
}

/** Platform staff: may administer accounts, never read health data. */
export interface OperatorActor {
  readonly kind: 'operator';
  readonly operatorId: string;
  readonly display: string;
}

/** Carnet itself (scheduled jobs, ingestion bookkeeping). */
export interface SystemActor {
  readonly kind: 'system';
  readonly display: string;
}

export function actorId(actor: Actor): string | null {
  switch (actor.kind) {
    case 'patient':
      return actor.patientId;
    case 'representative':
      return actor.personId;
    case 'professional':
      return actor.rpps;
    case 'app':
      return actor.appId;
    case 'operator':
      return actor.operatorId;
    case 'system':
      return null;
  }
}
