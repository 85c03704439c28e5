import { describe, expect, it } from 'vitest';
import type { StoredAuditEvent } from './audit.ts';
import { canMoveDispute, DISPUTE_STATUSES, type DisputeStatus } from './dispute.ts';
import { HIDDEN_PERSON, presentHistoryEntry, type HistoryEntry } from './history-entry.ts';
import { csvField, CSV_COLUMNS, historyBundle, historyCsv, toFhirAuditEvent } from './history-export.ts';

const PATIENT = '0192f0c4-0000-7000-8000-000000000001';

function entry(over: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    id: '0192f0c4-8f3a-7c1e-9a4b-3f2d1e0c9b8a',
    seq: '7',
    patientId: PATIENT,
    at: new Date('2026-03-02T08:00:00.000Z'),
    actor: {
      kind: 'professional',
      id: '10101010101',
      display: 'Jean Docteur',
      profession: { code: '10', label: 'Médecin' },
      identifier: { system: 'urn:oid:1.2.250.1.71.4.2.1', value: '810101010101' },
    },
    action: 'read',
    entity: { type: 'DocumentReference', id: 'd1' },
    outcome: 'success',
    basis: 'care-team',
    ...over,
  };
}

describe('csvField (RFC 4180, safe in spreadsheets)', () => {
  it.each([
    ['plain', 'plain'],
    ['', ''],
    [null, ''],
    ['Dupont, Jo', '"Dupont, Jo"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['Amélie Ñ', 'Amélie Ñ'],
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+33 6', "'+33 6"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
  ])('%j → %s', (value, text) => {
    expect(csvField(value)).toBe(text);
  });
});

describe('historyCsv', () => {
  it('has a BOM, a header row and one CRLF line per entry', () => {
    const camille = { kind: 'patient', id: PATIENT, display: 'Dupont, "Camille"' };
    const csv = historyCsv([
      entry(),
      entry({ actor: camille, basis: 'owner' }),
      entry({
        actor: camille,
        action: 'authenticate',
        entity: { type: 'Session', id: 's1' },
        basis: 'owner',
        method: 'password+totp',
      }),
    ]);
    expect([...csv.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = csv.toString('utf8').slice(1).split('\r\n');
    expect(lines).toEqual([
      CSV_COLUMNS.join(','),
      '0192f0c4-8f3a-7c1e-9a4b-3f2d1e0c9b8a,2026-03-02T08:00:00.000Z,professional,Médecin,Jean Docteur,10101010101,read,DocumentReference,d1,success,care-team,',
      `0192f0c4-8f3a-7c1e-9a4b-3f2d1e0c9b8a,2026-03-02T08:00:00.000Z,patient,,"Dupont, ""Camille""",${PATIENT},read,DocumentReference,d1,success,owner,`,
      `0192f0c4-8f3a-7c1e-9a4b-3f2d1e0c9b8a,2026-03-02T08:00:00.000Z,patient,,"Dupont, ""Camille""",${PATIENT},authenticate,Session,s1,success,owner,password+totp`,
      '',
    ]);
  });
});

describe('toFhirAuditEvent (IHE BALP spirit)', () => {
  it('maps a professional read', () => {
    const r = toFhirAuditEvent(entry());
    expect(r).toMatchObject({
      resourceType: 'AuditEvent',
      type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110' },
      subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }],
      action: 'R',
      recorded: '2026-03-02T08:00:00.000Z',
      outcome: '0',
    });
    expect(r.purposeOfEvent?.[0]?.coding).toEqual([
      { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT', display: 'treatment' },
      { system: 'urn:carnet:access-basis', code: 'care-team' },
    ]);
    expect(r.agent[0]).toMatchObject({
      type: { coding: [{ code: 'PROV' }] },
      role: [{ coding: [{ code: '10', display: 'Médecin' }] }],
      who: {
        identifier: { system: 'urn:oid:1.2.250.1.71.4.2.1', value: '810101010101' },
        display: 'Jean Docteur',
      },
      requestor: true,
    });
    expect(r.entity).toEqual([
      expect.objectContaining({ what: { reference: 'DocumentReference/d1', type: 'DocumentReference' } }),
      expect.objectContaining({
        what: { reference: `Patient/${PATIENT}` },
        role: expect.objectContaining({ code: '1' }),
      }),
    ]);
    expect(r.source.observer).toEqual({ display: 'Carnet' });
  });

  it.each([
    ['search', 'E', 'search-type'],
    ['create', 'C', 'create'],
    ['update', 'U', 'update'],
    ['replace', 'U', 'update'],
    ['delete', 'D', 'delete'],
  ])('%s → action %s, subtype %s', (action, code, subtype) => {
    const r = toFhirAuditEvent(entry({ action }));
    expect(r.action).toBe(code);
    expect(r.subtype).toEqual([{ system: 'http://hl7.org/fhir/restful-interaction', code: subtype }]);
  });

  it('marks denials and failures, and leaves out a basis that does not exist', () => {
    const denied = toFhirAuditEvent(entry({ outcome: 'denied', basis: null }));
    expect([denied.outcome, denied.outcomeDesc, denied.purposeOfEvent]).toEqual(['4', 'denied', undefined]);
    expect(toFhirAuditEvent(entry({ outcome: 'failure' })).outcome).toBe('8');
  });

  it('maps sign-ins and sign-outs to DICOM User Authentication (Login, Logout), with the method', () => {
    const patient = { kind: 'patient', id: PATIENT, display: 'Camille' };
    const session = { actor: patient, entity: { type: 'Session', id: 's1' }, basis: 'owner' };
    const login = toFhirAuditEvent(entry({ ...session, action: 'authenticate', method: 'passkey' }));
    expect(login).toMatchObject({
      type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110114' },
      subtype: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110122', display: 'Login' }],
      action: 'E',
      outcome: '0',
    });
    expect(login.entity[0]).toMatchObject({
      what: { reference: 'Session/s1' },
      detail: [{ type: 'method', valueString: 'passkey' }],
    });
    const logout = toFhirAuditEvent(entry({ ...session, action: 'sign-out' }));
    expect(logout.subtype).toEqual([
      { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110123', display: 'Logout' },
    ]);
    expect(logout.entity[0]?.detail).toBeUndefined();
    expect(toFhirAuditEvent(entry()).entity[0]?.detail).toBeUndefined();
  });

  it('wraps the entries in a collection Bundle', () => {
    const b = historyBundle([entry()], new Date('2026-03-03T00:00:00Z'));
    expect(b).toMatchObject({
      resourceType: 'Bundle',
      type: 'collection',
      timestamp: '2026-03-03T00:00:00.000Z',
    });
    expect(b.entry).toHaveLength(1);
    expect(b.entry[0]?.fullUrl).toBe('urn:uuid:0192f0c4-8f3a-7c1e-9a4b-3f2d1e0c9b8a');
  });
});

describe('presentHistoryEntry', () => {
  const stored = (
    actor: Partial<StoredAuditEvent['actor']>,
    outcome: StoredAuditEvent['outcome'] = 'success',
  ): StoredAuditEvent => ({
    id: 'e1',
    seq: '1',
    patientId: PATIENT,
    recordedAt: new Date('2026-03-02T08:00:00Z'),
    actor: {
      kind: 'patient',
      id: PATIENT,
      display: 'Camille',
      organizationId: null,
      clientId: null,
      professionCode: null,
      ...actor,
    },
    action: 'read',
    entity: { type: 'DocumentReference', id: 'd1' },
    outcome,
    basis: 'owner',
    reason: 'internal reason',
    requestId: 'r1',
    details: { secret: true },
  });
  const lookups = {
    professionLabel: (code: string) => (code === '10' ? 'Médecin' : undefined),
    professionalIdentifier: (rpps: string) => ({ system: 'idnps', value: `8${rpps}` }),
  };

  it.each([
    ['the owner', stored({}), { kind: 'patient', id: PATIENT, display: 'Camille' }],
    [
      'another person',
      stored({ id: 'someone' }, 'denied'),
      { kind: 'patient', id: null, display: HIDDEN_PERSON },
    ],
    [
      'a refused representative',
      stored({ kind: 'representative', id: 'p2', display: 'Bob' }, 'denied'),
      { kind: 'representative', id: null, display: HIDDEN_PERSON },
    ],
    [
      'a representative',
      stored({ kind: 'representative', id: 'p2', display: 'Bob' }),
      { kind: 'representative', id: 'p2', display: 'Bob' },
    ],
    [
      'a doctor',
      stored({ kind: 'professional', id: '1', display: 'Dr', professionCode: '10' }),
      {
        kind: 'professional',
        id: '1',
        display: 'Dr',
        profession: { code: '10', label: 'Médecin' },
        identifier: { system: 'idnps', value: '81' },
      },
    ],
    [
      'an unknown profession',
      stored({ kind: 'professional', id: '1', display: 'Dr', professionCode: '99' }),
      { kind: 'professional', id: '1', display: 'Dr', identifier: { system: 'idnps', value: '81' } },
    ],
  ])('shows %s', (_name, event, actor) => {
    const e = presentHistoryEntry(event, PATIENT, lookups);
    expect(e.actor).toEqual(actor);
    expect(Object.keys(e).sort()).toEqual([
      'action',
      'actor',
      'at',
      'basis',
      'entity',
      'id',
      'outcome',
      'patientId',
      'seq',
    ]);
  });
});

describe('presentHistoryEntry: sign-ins, sign-outs, activation', () => {
  const lookups = { professionLabel: () => undefined, professionalIdentifier: () => undefined };
  const event = (over: Partial<StoredAuditEvent>): StoredAuditEvent => ({
    id: 'e1',
    seq: '1',
    patientId: PATIENT,
    recordedAt: new Date('2026-03-02T08:00:00Z'),
    actor: {
      kind: 'patient',
      id: PATIENT,
      display: 'Camille',
      organizationId: null,
      clientId: null,
      professionCode: null,
    },
    action: 'authenticate',
    entity: { type: 'Session', id: 's1' },
    outcome: 'success',
    basis: 'owner',
    reason: null,
    requestId: null,
    details: {},
    ...over,
  });

  it.each([
    [
      'a password and TOTP sign-in',
      event({ details: { method: 'password+totp' } }),
      'password+totp',
      {
        fr: 'Connexion (mot de passe et application d’authentification)',
        en: 'Sign-in (password and authenticator app)',
      },
    ],
    [
      'a passkey sign-in',
      event({ details: { method: 'passkey', passkeyId: 'k1' } }),
      'passkey',
      { fr: 'Connexion (clé d’accès)', en: 'Sign-in (passkey)' },
    ],
    [
      'a refused sign-in (its details name the HTTP method, not a sign-in method)',
      event({ outcome: 'denied', details: { credential: 'passkey', method: 'POST' } }),
      undefined,
      { fr: 'Tentative de connexion refusée', en: 'Refused sign-in attempt' },
    ],
    ['a sign-out', event({ action: 'sign-out' }), undefined, { fr: 'Déconnexion', en: 'Sign-out' }],
    [
      'a device signed out from the security page',
      event({ action: 'revoke' }),
      undefined,
      { fr: 'Déconnexion d’un appareil', en: 'Device signed out' },
    ],
    [
      'an activation',
      event({
        action: 'activate',
        entity: { type: 'Account', id: PATIENT },
        details: { method: 'password+email' },
      }),
      'password+email',
      {
        fr: 'Activation de l’espace (mot de passe et code reçu par e-mail)',
        en: 'Space activated (password and e-mailed code)',
      },
    ],
    [
      'a document read (no wording: the client words action and entity)',
      event({ action: 'read', entity: { type: 'DocumentReference', id: 'd1' }, details: { method: 'x' } }),
      undefined,
      undefined,
    ],
  ])('words %s', (_name, stored, method, label) => {
    const e = presentHistoryEntry(stored, PATIENT, lookups);
    expect(e.method).toBe(method);
    expect(e.label).toEqual(label);
  });
});

describe('dispute statuses', () => {
  const allowed = new Set([
    'open>in_review',
    'open>resolved',
    'open>rejected',
    'in_review>resolved',
    'in_review>rejected',
  ]);
  const pairs = DISPUTE_STATUSES.flatMap((from) =>
    DISPUTE_STATUSES.map((to) => [from, to] as [DisputeStatus, DisputeStatus]),
  );
  it.each(pairs)('%s → %s', (from, to) => {
    expect(canMoveDispute(from, to)).toBe(allowed.has(`${from}>${to}`));
  });
});
