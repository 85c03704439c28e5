import type { Actor } from './actor.ts';

/**
 * The access decision, as one pure function over data. Every read or write of a person's data is
 * decided here and nowhere else; the gate (gate.ts) calls it and records the outcome.
 *
 * First cut (foundation issue): the patient owns their record; a professional may add documents for
 * any patient and read, replace or delete what they authored. The full rules (matrix, care team,
 * masking, emergency…) replace this function whole.
 */

export type Action = 'create' | 'read' | 'search' | 'update' | 'delete' | 'replace';

/** What the decision needs to know about an item — never its content. */
export interface ItemFacts {
  readonly type: 'DocumentReference';
  readonly patientId: string;
  readonly source: 'professional' | 'patient';
  readonly authorProfessionalId: string | null;
  readonly confidentiality: readonly string[];
  readonly classCode: string | null;
}

export interface AccessRequest {
  readonly patientId: string;
  readonly action: Action;
  /** Absent for actions on the record as a whole (create, search). */
  readonly item?: ItemFacts;
}

export type Basis = 'owner' | 'author' | 'contribution';

export type Decision =
  | { readonly allow: true; readonly basis: Basis }
  | {
      readonly allow: false;
      readonly reason: string;
      /** True when the actor may know the item exists (then 403 with the reason, else 404). */
      readonly visible: boolean;
    };

/**
 * @example decide({ kind: 'patient', patientId: 'p1', … }, { patientId: 'p1', action: 'search' }) // allow, owner
 */
export function decide(actor: Actor, req: AccessRequest): Decision {
  if (req.item && req.item.patientId !== req.patientId) {
    return { allow: false, reason: 'item belongs to another record', visible: false };
  }
  switch (actor.kind) {
    case 'patient':
      return decideForPatient(actor.patientId, req);
    case 'professional':
      return decideForProfessional(actor.professionalId, req);
    case 'representative':
    case 'app':
    case 'operator':
    case 'system':
      return { allow: false, reason: `${actor.kind} actors have no access in this version`, visible: false };
  }
}

function decideForPatient(patientId: string, req: AccessRequest): Decision {
  if (patientId !== req.patientId)
    return { allow: false, reason: 'not the owner of this record', visible: false };
  const item = req.item;
  if ((req.action === 'update' || req.action === 'delete' || req.action === 'replace') && item) {
    if (item.source !== 'patient') {
      return {
        allow: false,
        reason:
          'Documents added by professionals cannot be changed or deleted by the patient (they can be hidden)',
        visible: true,
      };
    }
  }
  return { allow: true, basis: 'owner' };
}

function decideForProfessional(professionalId: string, req: AccessRequest): Decision {
  const item = req.item;
  if (req.action === 'create' && !item) return { allow: true, basis: 'contribution' };
  if (req.action === 'search' && !item) return { allow: true, basis: 'author' }; // results are filtered per item
  if (item && item.authorProfessionalId === professionalId) return { allow: true, basis: 'author' };
  return { allow: false, reason: 'not the author of this document', visible: false };
}
