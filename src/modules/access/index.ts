/**
 * Access: who may do what on whose record. The decision (policy.ts) is one pure function; the gate
 * (gate.ts) is the one door through which every read and write of health data passes.
 */
export type { Actor, PatientActor, ProfessionalActor, SystemActor } from './actor.ts';
export { actorId } from './actor.ts';
export type { Action, Basis, Decision, ItemFacts, AccessRequest } from './policy.ts';
export { decide } from './policy.ts';
export type { Grant, Guarded, GateRequest } from './gate.ts';
export { guard, reveal, requireAccess, filterVisible, wouldAllow, guarded, recordDenial } from './gate.ts';
export { listRecordHistory } from './history.ts';
