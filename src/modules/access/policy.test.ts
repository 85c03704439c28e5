import { describe, expect, it } from 'vitest';
import type { Actor, ProfessionalActor } from './actor.ts';
import { accessMatrix, matrixAllows, parseAccessMatrix } from './matrix.ts';
import {
  DEFAULT_SETTINGS,
  decide,
  type AccessRequest,
  type AccessRule,
  type Action,
  type ItemFacts,
  type PrivacySettings,
  type RecordPolicy,
} from './policy.ts';

/**
 * The decision, rule by rule (DOMAIN §2–§4). Each row: who, what, on which item, under which
 * rules and settings → allow with a basis, or deny (visible or not).
 */

const NOW = new Date('2026-11-22T12:00:00Z');
const HOUR = 3600_000;
const P = 'patient-1';

const pro = (
  id: string,
  professionCode = '10',
  extra: Partial<ProfessionalActor> = {},
): ProfessionalActor => ({
  kind: 'professional',
  professionalId: id,
  rpps: `rpps-${id}`,
  professionCode,
  specialtyCode: null,
  display: id,
  organizationId: 'org',
  clientId: 'client',
  ...extra,
});

const GP = pro('gp');
const DOC = pro('doctor');
const NURSE = pro('nurse', '60');
const PHARMA = pro('pharmacist', '21');
const SAMU = pro('samu', '10', { emergencyRegulator: true });
const AUTHOR = pro('author');
const STRANGER = pro('stranger');
const OWNER: Actor = { kind: 'patient', patientId: P, display: 'Camille', sessionId: 's' };
const OTHER_PATIENT: Actor = { kind: 'patient', patientId: 'patient-2', display: 'Other', sessionId: 's2' };
const PARENT: Actor = { kind: 'representative', personId: 'parent', display: 'Parent', sessionId: 's3' };
const HELPER: Actor = { kind: 'representative', personId: 'helper', display: 'Helper', sessionId: 's4' };
const APP: Actor = { kind: 'app', appId: 'app-1', display: 'App', scopes: ['documents.read'] };
const OPERATOR: Actor = { kind: 'operator', operatorId: 'op', display: 'Op' };
const SYSTEM: Actor = { kind: 'system', display: 'jobs' };

let n = 0;
const rule = (partial: Partial<AccessRule> & Pick<AccessRule, 'kind'>): AccessRule => ({
  id: `rule-${++n}`,
  professionalId: null,
  personId: null,
  documentId: null,
  role: null,
  scopes: [],
  channel: null,
  reason: null,
  startsAt: new Date(NOW.getTime() - 24 * HOUR),
  endsAt: null,
  revokedAt: null,
  details: {},
  ...partial,
});

const doc = (partial: Partial<ItemFacts> = {}): ItemFacts => ({
  type: 'DocumentReference',
  id: 'doc-1',
  patientId: P,
  source: 'professional',
  authorProfessionalId: 'author',
  confidentiality: ['N'],
  classCode: '10',
  typeCode: '11488-4',
  masked: null,
  releaseAt: null,
  ...partial,
});

const RULES = {
  gp: rule({ kind: 'role', role: 'gp', professionalId: 'gp' }),
  admin: rule({ kind: 'role', role: 'administrator', professionalId: 'doctor' }),
  careTeamDoctor: rule({ kind: 'care_team', professionalId: 'doctor' }),
  careTeamNurse: rule({ kind: 'care_team', professionalId: 'nurse' }),
  consentPharmacist: rule({ kind: 'consent', professionalId: 'pharmacist', channel: 'in_person' }),
  midwifeRole: rule({ kind: 'role', role: 'referent_midwife', professionalId: 'doctor' }),
  blockDoctor: rule({ kind: 'block', professionalId: 'doctor' }),
  blockGp: rule({ kind: 'block', professionalId: 'gp' }),
  blockAuthor: rule({ kind: 'block', professionalId: 'author' }),
  shareStranger: rule({
    kind: 'share',
    professionalId: 'stranger',
    documentId: 'doc-1',
    endsAt: new Date(NOW.getTime() + HOUR),
  }),
  shareDoctor: rule({ kind: 'share', professionalId: 'doctor', documentId: 'doc-1' }),
  endedShare: rule({
    kind: 'share',
    professionalId: 'stranger',
    documentId: 'doc-1',
    endsAt: new Date(NOW.getTime() - 1),
  }),
  revokedConsent: rule({
    kind: 'consent',
    professionalId: 'pharmacist',
    revokedAt: new Date(NOW.getTime() - HOUR),
  }),
  futureConsent: rule({
    kind: 'consent',
    professionalId: 'pharmacist',
    startsAt: new Date(NOW.getTime() + HOUR),
  }),
  breakGlass: rule({
    kind: 'emergency',
    professionalId: 'stranger',
    reason: 'unconscious',
    endsAt: new Date(NOW.getTime() + HOUR),
    details: { mode: 'break_glass' },
  }),
  expiredBreakGlass: rule({
    kind: 'emergency',
    professionalId: 'stranger',
    endsAt: new Date(NOW.getTime() - 1),
    details: { mode: 'break_glass' },
  }),
  samu: rule({
    kind: 'emergency',
    professionalId: 'samu',
    endsAt: new Date(NOW.getTime() + HOUR),
    details: { mode: 'samu' },
  }),
  parent: rule({ kind: 'representation', role: 'legal_representative', personId: 'parent' }),
  caregiverAgenda: rule({
    kind: 'representation',
    role: 'caregiver',
    personId: 'helper',
    scopes: ['agenda', 'messages'],
  }),
  caregiverDocs: rule({
    kind: 'representation',
    role: 'caregiver',
    personId: 'helper',
    scopes: ['documents'],
  }),
  endedCaregiver: rule({
    kind: 'representation',
    role: 'caregiver',
    personId: 'helper',
    scopes: ['documents'],
    endsAt: new Date(NOW.getTime() - 1),
  }),
  app: rule({ kind: 'app', scopes: ['documents.read'], details: { appId: 'app-1' } }),
};

type R = keyof typeof RULES;

interface Row {
  name: string;
  actor: Actor;
  action?: Action;
  entityType?: string;
  item?: ItemFacts | null;
  rules?: R[];
  settings?: Partial<PrivacySettings>;
  expect: string; // 'allow:<basis>' | 'deny' | 'deny:visible'
}

const READ_DOC = doc();
const MASKED = doc({ masked: true });
const MASQUE_PS = doc({ confidentiality: ['MASQUE_PS'] });
const DELAYED = doc({
  confidentiality: ['INVISIBLE_PATIENT'],
  releaseAt: new Date(NOW.getTime() + 10 * 24 * HOUR),
});
const RELEASED = doc({ confidentiality: ['INVISIBLE_PATIENT'], releaseAt: new Date(NOW.getTime() - 1) });
const MINOR_SECRET = doc({ confidentiality: ['INVISIBLE_REPRESENTANTS_LEGAUX'] });
const OWN_UPLOAD = doc({
  source: 'patient',
  authorProfessionalId: null,
  classCode: '90',
  typeCode: 'DOCPAT01',
});
const RESIDENCE = doc({ classCode: '95', typeCode: 'ATTEST-RESID' });
const PSY = doc({ classCode: '11', typeCode: '68599-0' });

const rows: Row[] = [
  // The owner
  { name: 'owner reads a document', actor: OWNER, item: READ_DOC, expect: 'allow:owner' },
  { name: 'owner searches', actor: OWNER, action: 'search', item: null, expect: 'allow:owner' },
  { name: 'owner reads a masked document', actor: OWNER, item: MASKED, expect: 'allow:owner' },
  { name: 'owner cannot see a delayed document before release', actor: OWNER, item: DELAYED, expect: 'deny' },
  {
    name: 'owner sees it once released (1 month or author)',
    actor: OWNER,
    item: RELEASED,
    expect: 'allow:owner',
  },
  {
    name: "owner cannot change a professional's document",
    actor: OWNER,
    action: 'update',
    item: READ_DOC,
    expect: 'deny:visible',
  },
  {
    name: "owner cannot delete a professional's document",
    actor: OWNER,
    action: 'delete',
    item: READ_DOC,
    expect: 'deny:visible',
  },
  {
    name: 'owner edits an own upload',
    actor: OWNER,
    action: 'update',
    item: OWN_UPLOAD,
    expect: 'allow:owner',
  },
  {
    name: 'owner masks (manages) a professional document',
    actor: OWNER,
    action: 'manage',
    item: READ_DOC,
    expect: 'allow:owner',
  },
  {
    name: 'owner manages the privacy settings',
    actor: OWNER,
    action: 'manage',
    entityType: 'PrivacySettings',
    item: null,
    expect: 'allow:owner',
  },
  { name: 'another patient sees nothing', actor: OTHER_PATIENT, item: READ_DOC, expect: 'deny' },
  {
    name: 'another patient cannot search',
    actor: OTHER_PATIENT,
    action: 'search',
    item: null,
    expect: 'deny',
  },
  // Representatives and caregivers
  {
    name: 'legal representative reads',
    actor: PARENT,
    item: READ_DOC,
    rules: ['parent'],
    expect: 'allow:representative',
  },
  {
    name: 'legal representative manages settings',
    actor: PARENT,
    action: 'manage',
    entityType: 'PrivacySettings',
    item: null,
    rules: ['parent'],
    expect: 'allow:representative',
  },
  {
    name: "minor's confidential act is invisible to representatives",
    actor: PARENT,
    item: MINOR_SECRET,
    rules: ['parent'],
    expect: 'deny',
  },
  { name: '…but not to the minor', actor: OWNER, item: MINOR_SECRET, expect: 'allow:owner' },
  {
    name: 'representative: delayed document hidden too',
    actor: PARENT,
    item: DELAYED,
    rules: ['parent'],
    expect: 'deny',
  },
  { name: 'representative without a live representation', actor: PARENT, item: READ_DOC, expect: 'deny' },
  {
    name: 'caregiver within scope (documents)',
    actor: HELPER,
    item: READ_DOC,
    rules: ['caregiverDocs'],
    expect: 'allow:caregiver',
  },
  {
    name: 'caregiver outside scope (agenda only)',
    actor: HELPER,
    item: READ_DOC,
    rules: ['caregiverAgenda'],
    expect: 'deny',
  },
  {
    name: 'caregiver in scope for agenda',
    actor: HELPER,
    action: 'read',
    entityType: 'Appointment',
    item: null,
    rules: ['caregiverAgenda'],
    expect: 'allow:caregiver',
  },
  {
    name: 'caregiver never manages privacy',
    actor: HELPER,
    action: 'manage',
    entityType: 'AccessRule',
    item: null,
    rules: ['caregiverDocs'],
    expect: 'deny',
  },
  {
    name: 'caregiver after the end date',
    actor: HELPER,
    item: READ_DOC,
    rules: ['endedCaregiver'],
    expect: 'deny',
  },
  // Professionals: relationships
  { name: 'no relationship: hidden', actor: STRANGER, item: READ_DOC, expect: 'deny' },
  { name: 'GP reads', actor: GP, item: READ_DOC, rules: ['gp'], expect: 'allow:gp' },
  {
    name: 'administrator reads',
    actor: DOC,
    item: READ_DOC,
    rules: ['admin'],
    expect: 'allow:administrator',
  },
  {
    name: 'care team (presumed, informed) reads',
    actor: DOC,
    item: READ_DOC,
    rules: ['careTeamDoctor'],
    expect: 'allow:care-team',
  },
  {
    name: 'a role such as referent midwife counts as care team',
    actor: DOC,
    item: READ_DOC,
    rules: ['midwifeRole'],
    expect: 'allow:care-team',
  },
  {
    name: 'explicit consent',
    actor: PHARMA,
    item: doc({ classCode: '42', typeCode: '57833-6' }),
    rules: ['consentPharmacist'],
    expect: 'allow:consent',
  },
  {
    name: 'revoked consent: hidden',
    actor: PHARMA,
    item: doc({ classCode: '42', typeCode: '57833-6' }),
    rules: ['revokedConsent'],
    expect: 'deny',
  },
  {
    name: 'consent not yet started',
    actor: PHARMA,
    item: doc({ classCode: '42', typeCode: '57833-6' }),
    rules: ['futureConsent'],
    expect: 'deny',
  },
  { name: 'author always reads own document', actor: AUTHOR, item: READ_DOC, expect: 'allow:author' },
  {
    name: 'author replaces own document',
    actor: AUTHOR,
    action: 'replace',
    item: READ_DOC,
    expect: 'allow:author',
  },
  {
    name: 'author deletes own document',
    actor: AUTHOR,
    action: 'delete',
    item: READ_DOC,
    expect: 'allow:author',
  },
  {
    name: 'a reader who is not the author may not change it (visible)',
    actor: GP,
    action: 'update',
    item: READ_DOC,
    rules: ['gp'],
    expect: 'deny:visible',
  },
  {
    name: 'a non-reader may not change it (hidden)',
    actor: STRANGER,
    action: 'delete',
    item: READ_DOC,
    expect: 'deny',
  },
  // Matrix
  {
    name: 'matrix: a doctor may not read a residence certificate',
    actor: GP,
    item: RESIDENCE,
    rules: ['gp'],
    expect: 'deny',
  },
  {
    name: 'matrix: a nurse may not read a psychiatric summary (verified cell)',
    actor: NURSE,
    item: PSY,
    rules: ['careTeamNurse'],
    expect: 'deny',
  },
  {
    name: 'matrix: a nurse reads a report',
    actor: NURSE,
    item: READ_DOC,
    rules: ['careTeamNurse'],
    expect: 'allow:care-team',
  },
  {
    name: 'matrix: a pharmacist may not read imaging (assumed cell)',
    actor: PHARMA,
    item: doc({ classCode: '31', typeCode: '18748-4' }),
    rules: ['consentPharmacist'],
    expect: 'deny',
  },
  // Masking
  {
    name: 'masked: hidden from the care team',
    actor: DOC,
    item: MASKED,
    rules: ['careTeamDoctor'],
    expect: 'deny',
  },
  {
    name: 'MASQUE_PS code: hidden from the care team',
    actor: DOC,
    item: MASQUE_PS,
    rules: ['careTeamDoctor'],
    expect: 'deny',
  },
  {
    name: 'mask by default hides documents with no choice (present and future)',
    actor: DOC,
    item: doc({ masked: null }),
    rules: ['careTeamDoctor'],
    settings: { maskByDefault: true },
    expect: 'deny',
  },
  {
    name: 'a document explicitly shown stays visible under mask by default',
    actor: DOC,
    item: doc({ masked: false }),
    rules: ['careTeamDoctor'],
    settings: { maskByDefault: true },
    expect: 'allow:care-team',
  },
  {
    name: 'mask by default: the GP still sees',
    actor: GP,
    item: doc({ masked: null }),
    rules: ['gp'],
    settings: { maskByDefault: true },
    expect: 'allow:gp',
  },
  { name: 'masked: visible to the GP', actor: GP, item: MASKED, rules: ['gp'], expect: 'allow:gp' },
  {
    name: 'masked: visible to an administrator',
    actor: DOC,
    item: MASKED,
    rules: ['admin'],
    expect: 'allow:administrator',
  },
  { name: 'masked: visible to its author', actor: AUTHOR, item: MASKED, expect: 'allow:author' },
  {
    name: 'masked but shared with this professional',
    actor: STRANGER,
    item: doc({ masked: true }),
    rules: ['shareStranger'],
    expect: 'allow:shared-with',
  },
  // Blocking
  {
    name: 'blocked: loses access despite care team',
    actor: DOC,
    item: READ_DOC,
    rules: ['careTeamDoctor', 'blockDoctor'],
    expect: 'deny',
  },
  {
    name: 'blocked GP loses access too',
    actor: GP,
    item: READ_DOC,
    rules: ['gp', 'blockGp'],
    expect: 'deny',
  },
  {
    name: 'blocked GP cannot read the history',
    actor: GP,
    action: 'read',
    entityType: 'AuditEvent',
    item: null,
    rules: ['gp', 'blockGp'],
    expect: 'deny',
  },
  {
    name: 'blocked author still reads what they wrote',
    actor: AUTHOR,
    item: READ_DOC,
    rules: ['blockAuthor'],
    expect: 'allow:author',
  },
  {
    name: 'blocked professional may still add a document',
    actor: DOC,
    action: 'create',
    item: null,
    rules: ['blockDoctor'],
    expect: 'allow:contribution',
  },
  {
    name: 'any professional may add a document',
    actor: STRANGER,
    action: 'create',
    item: null,
    expect: 'allow:contribution',
  },
  // Shares
  {
    name: 'share: one document, one professional, until a date',
    actor: STRANGER,
    item: READ_DOC,
    rules: ['shareStranger'],
    expect: 'allow:shared-with',
  },
  {
    name: 'share does not extend to other documents',
    actor: STRANGER,
    item: doc({ id: 'doc-2' }),
    rules: ['shareStranger'],
    expect: 'deny',
  },
  { name: 'ended share', actor: STRANGER, item: READ_DOC, rules: ['endedShare'], expect: 'deny' },
  {
    name: 'share to a blocked professional does not apply',
    actor: DOC,
    item: READ_DOC,
    rules: ['blockDoctor', 'shareDoctor'],
    expect: 'deny',
  },
  // Emergency
  {
    name: 'break-glass within its time',
    actor: STRANGER,
    item: READ_DOC,
    rules: ['breakGlass'],
    expect: 'allow:emergency',
  },
  {
    name: 'break-glass after its time',
    actor: STRANGER,
    item: READ_DOC,
    rules: ['expiredBreakGlass'],
    expect: 'deny',
  },
  {
    name: 'break-glass once the patient turned the switch off',
    actor: STRANGER,
    item: READ_DOC,
    rules: ['breakGlass'],
    settings: { breakGlassAccess: false },
    expect: 'deny',
  },
  {
    name: 'break-glass excludes masked documents by default',
    actor: STRANGER,
    item: MASKED,
    rules: ['breakGlass'],
    expect: 'deny',
  },
  {
    name: 'break-glass includes masked when the patient said so',
    actor: STRANGER,
    item: MASKED,
    rules: ['breakGlass'],
    settings: { emergencyIncludesMasked: true },
    expect: 'allow:emergency',
  },
  {
    name: 'SAMU regulator on a call',
    actor: SAMU,
    item: READ_DOC,
    rules: ['samu'],
    expect: 'allow:emergency',
  },
  {
    name: 'SAMU access off',
    actor: SAMU,
    item: READ_DOC,
    rules: ['samu'],
    settings: { samuAccess: false },
    expect: 'deny',
  },
  {
    name: 'emergency still obeys the matrix',
    actor: STRANGER,
    item: RESIDENCE,
    rules: ['breakGlass'],
    expect: 'deny',
  },
  // History for professionals
  {
    name: 'GP reads the traces',
    actor: GP,
    action: 'read',
    entityType: 'AuditEvent',
    item: null,
    rules: ['gp'],
    expect: 'allow:gp',
  },
  {
    name: 'care team does not read the traces',
    actor: DOC,
    action: 'read',
    entityType: 'AuditEvent',
    item: null,
    rules: ['careTeamDoctor'],
    expect: 'deny',
  },
  // Other actors
  {
    name: 'app with consent reads documents',
    actor: APP,
    item: READ_DOC,
    rules: ['app'],
    expect: 'allow:app',
  },
  { name: 'app without consent', actor: APP, item: READ_DOC, expect: 'deny' },
  {
    name: 'app cannot write without the scope',
    actor: APP,
    action: 'create',
    item: null,
    rules: ['app'],
    expect: 'deny',
  },
  { name: 'operator never reads health data', actor: OPERATOR, item: READ_DOC, expect: 'deny' },
  {
    name: 'a care-team nurse reads measurements',
    actor: NURSE,
    entityType: 'Observation',
    item: null,
    rules: ['careTeamNurse'],
    expect: 'allow:care-team',
  },
  {
    name: 'the GP adds a vaccination',
    actor: GP,
    action: 'create',
    entityType: 'Immunization',
    item: null,
    rules: ['gp'],
    expect: 'allow:gp',
  },
  {
    name: 'a professional without relationship reads no profile',
    actor: STRANGER,
    entityType: 'Profile',
    item: null,
    expect: 'deny',
  },
  {
    name: 'a blocked professional reads no measurement',
    actor: DOC,
    entityType: 'Observation',
    item: null,
    rules: ['careTeamDoctor', 'blockDoctor'],
    expect: 'deny',
  },
  {
    name: 'professionals do not edit the patient’s own profile',
    actor: GP,
    action: 'update',
    entityType: 'Profile',
    item: null,
    rules: ['gp'],
    expect: 'deny',
  },
  {
    name: 'a caregiver with the documents scope reads no measurement',
    actor: HELPER,
    entityType: 'Observation',
    item: null,
    rules: ['caregiverDocs'],
    expect: 'deny',
  },
  {
    name: 'system jobs act with their own basis',
    actor: SYSTEM,
    action: 'update',
    item: DELAYED,
    expect: 'allow:system',
  },
];

function run(row: Row) {
  const policy: RecordPolicy = {
    patientId: P,
    settings: { ...DEFAULT_SETTINGS, ...row.settings },
    rules: (row.rules ?? []).map((r) => RULES[r]),
  };
  const request: AccessRequest = {
    patientId: P,
    action: row.action ?? 'read',
    entityType: row.entityType ?? 'DocumentReference',
    ...(row.item ? { item: row.item } : {}),
  };
  return decide({ actor: row.actor, request, policy, matrix: accessMatrix(), now: NOW });
}

describe('decide', () => {
  it.each(rows.map((r) => [r.name, r] as const))('%s', (_name, row) => {
    const d = run(row);
    const got = d.allow ? `allow:${d.basis}` : d.visible ? 'deny:visible' : 'deny';
    expect(got).toBe(row.expect);
    if (!d.allow) expect(d.reason.length).toBeGreaterThan(5);
  });

  it('names the rule it relied on', () => {
    const d = run({ name: '', actor: GP, item: READ_DOC, rules: ['gp'], expect: '' });
    expect(d).toEqual({ allow: true, basis: 'gp', ruleId: RULES.gp.id });
  });

  it('refuses an item of another record, whoever asks', () => {
    const d = run({ name: '', actor: OWNER, item: doc({ patientId: 'patient-2' }), expect: '' });
    expect(d.allow).toBe(false);
  });

  it('prefers the strongest relationship', () => {
    const d = run({ name: '', actor: DOC, item: MASKED, rules: ['careTeamDoctor', 'admin'], expect: '' });
    expect(d).toMatchObject({ allow: true, basis: 'administrator' });
  });
});

describe('the matrix', () => {
  const m = accessMatrix();
  it('has the 19 categories of the arrêté (plus the hospital pharmacy technicians)', () => {
    expect(m.professions.length).toBe(20);
    expect(m.version).toMatch(/^\d{4}-\d{2}-\d{2}/);
  });
  it.each([
    ['10', '11488-4', '10', true],
    ['10', 'ATTEST-RESID', '95', false],
    ['60', '83981-1', '10', true],
    ['60', '68599-0', '11', false],
    ['40', '75496-0', '10', false],
    ['21', '57833-6', '42', true],
    ['99', '11488-4', '10', false],
    ['10', null, null, false],
  ] as const)('profession %s, type %s, class %s → %s', (prof, type, cls, expected) => {
    expect(matrixAllows(m, prof, type, cls)).toBe(expected);
  });
  it('refuses a malformed matrix file', () => {
    expect(() => parseAccessMatrix({ id: 'x', version: '', completeness: '', professions: [] })).toThrow(
      /version/,
    );
    expect(() =>
      parseAccessMatrix({
        id: 'x',
        version: '1',
        completeness: '',
        professions: [
          { code: '10', label: 'a', namedInSources: true, classes: {}, types: {} },
          { code: '10', label: 'b', namedInSources: true, classes: {}, types: {} },
        ],
      }),
    ).toThrow(/twice/);
  });
});
