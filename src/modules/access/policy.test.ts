import { describe, expect, it } from 'vitest';
import type { Actor, PatientActor, ProfessionalActor, SystemActor } from './actor.ts';
import { decide, type AccessRequest, type Action, type Decision, type ItemFacts } from './policy.ts';

/** The access decision of the first cut, case by case (policy.ts). */

const patient = (patientId: string): PatientActor => ({
  kind: 'patient',
  patientId,
  display: 'Camille Test',
  sessionId: 's1',
});
const professional = (professionalId: string): ProfessionalActor => ({
  kind: 'professional',
  professionalId,
  rpps: '10000000001',
  professionCode: '10',
  specialtyCode: 'SM54',
  display: 'Jean Docteur',
  organizationId: 'org-1',
  clientId: 'carnet-client',
});
const system: SystemActor = { kind: 'system', display: 'sweep' };

const P = 'patient-p';
const Q = 'patient-q';
const DR_X = 'pro-x';
const DR_Y = 'pro-y';

const item = (
  patientId: string,
  source: ItemFacts['source'],
  authorProfessionalId: string | null,
): ItemFacts => ({
  type: 'DocumentReference',
  patientId,
  source,
  authorProfessionalId,
  confidentiality: ['N'],
  classCode: source === 'patient' ? null : '10',
});

const uploadOfP = item(P, 'patient', null);
const byXForP = item(P, 'professional', DR_X);
const byYForP = item(P, 'professional', DR_Y);
const uploadOfQ = item(Q, 'patient', null);

const allow = (basis: 'owner' | 'author' | 'contribution'): Decision => ({ allow: true, basis });
const hidden = { allow: false, visible: false } as const;
const refusedVisibly = { allow: false, visible: true } as const;

const req = (action: Action, patientId: string, it?: ItemFacts): AccessRequest => ({
  action,
  patientId,
  ...(it ? { item: it } : {}),
});

const CASES: Array<[string, Actor, AccessRequest, Partial<Decision>]> = [
  // The patient owns their record.
  ['patient searches own record', patient(P), req('search', P), allow('owner')],
  ['patient uploads to own record', patient(P), req('create', P), allow('owner')],
  ['patient reads own upload', patient(P), req('read', P, uploadOfP), allow('owner')],
  ["patient reads a professional's document", patient(P), req('read', P, byXForP), allow('owner')],
  ['patient edits own upload', patient(P), req('update', P, uploadOfP), allow('owner')],
  ['patient deletes own upload', patient(P), req('delete', P, uploadOfP), allow('owner')],
  ['patient replaces own upload', patient(P), req('replace', P, uploadOfP), allow('owner')],
  // …but documents from professionals are immutable for them, and they may know why.
  ["patient edits a professional's document", patient(P), req('update', P, byXForP), refusedVisibly],
  ["patient deletes a professional's document", patient(P), req('delete', P, byXForP), refusedVisibly],
  ["patient replaces a professional's document", patient(P), req('replace', P, byXForP), refusedVisibly],
  // Another person's record does not exist for them.
  ["patient searches another's record", patient(P), req('search', Q), hidden],
  ["patient uploads to another's record", patient(P), req('create', Q), hidden],
  ["patient reads another's upload", patient(P), req('read', Q, uploadOfQ), hidden],
  ["patient deletes another's upload", patient(P), req('delete', Q, uploadOfQ), hidden],
  ['patient names own record for an item of another', patient(P), req('read', P, uploadOfQ), hidden],
  // Professionals: add to any record, see and change what they wrote.
  ['professional adds documents', professional(DR_X), req('create', P), allow('contribution')],
  [
    'professional searches (results filtered per item)',
    professional(DR_X),
    req('search', P),
    allow('author'),
  ],
  ['professional reads what they wrote', professional(DR_X), req('read', P, byXForP), allow('author')],
  ['professional replaces what they wrote', professional(DR_X), req('replace', P, byXForP), allow('author')],
  ['professional deletes what they wrote', professional(DR_X), req('delete', P, byXForP), allow('author')],
  ['professional updates what they wrote', professional(DR_X), req('update', P, byXForP), allow('author')],
  ["professional reads another professional's document", professional(DR_X), req('read', P, byYForP), hidden],
  [
    "professional deletes another professional's document",
    professional(DR_X),
    req('delete', P, byYForP),
    hidden,
  ],
  ["professional reads the patient's upload", professional(DR_X), req('read', P, uploadOfP), hidden],
  ['professional reads a whole record', professional(DR_X), req('read', P), hidden],
  ['professional names a record for an item of another', professional(DR_X), req('read', Q, byXForP), hidden],
  // System actors never touch health data.
  ['system searches', system, req('search', P), hidden],
  ['system reads', system, req('read', P, uploadOfP), hidden],
  ['system creates', system, req('create', P), hidden],
];

describe('decide', () => {
  it.each(CASES)('%s', (_, actor, request, expected) => {
    const decision = decide(actor, request);
    expect(decision).toMatchObject(expected);
    if (!decision.allow) expect(decision.reason.length).toBeGreaterThan(0);
  });

  it('explains the refusal the patient may see', () => {
    const decision = decide(patient(P), req('delete', P, byXForP));
    expect(decision.allow).toBe(false);
    if (!decision.allow) expect(decision.reason).toMatch(/professionals cannot be changed or deleted/);
  });

  it('gives the same answer for the same question (pure)', () => {
    for (const [, actor, request] of CASES) expect(decide(actor, request)).toEqual(decide(actor, request));
  });
});
