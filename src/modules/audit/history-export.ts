import type { HistoryEntry } from './history-entry.ts';

/**
 * Downloads of the activity history: CSV for spreadsheets, and a FHIR R4 Bundle of AuditEvent
 * resources shaped in the spirit of IHE BALP (Basic Audit Log Patterns).
 */

export const CSV_COLUMNS = [
  'event_id',
  'recorded_at',
  'actor_kind',
  'actor_profession',
  'actor',
  'actor_id',
  'action',
  'entity_type',
  'entity_id',
  'outcome',
  'legal_basis',
  'auth_method',
] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. A text that a
 * spreadsheet would run as a formula (=, +, -, @, tab, CR first) is prefixed with an apostrophe.
 * @example csvField('Dupont, "Jo"') // '"Dupont, ""Jo"""'
 */
export function csvField(value: string | null | undefined): string {
  let text = value ?? '';
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The history as CSV: UTF-8 with a byte-order mark (so spreadsheets read accents right), a header
 * row, CRLF line ends.
 * @example historyCsv(entries).subarray(0, 3) // <Buffer ef bb bf>
 */
export function historyCsv(entries: readonly HistoryEntry[]): Buffer {
  const lines = [CSV_COLUMNS.join(',')];
  for (const e of entries) {
    lines.push(
      [
        e.id,
        e.at.toISOString(),
        e.actor.kind,
        e.actor.profession?.label ?? null,
        e.actor.display,
        e.actor.id,
        e.action,
        e.entity.type,
        e.entity.id,
        e.outcome,
        e.basis,
        e.method,
      ]
        .map(csvField)
        .join(','),
    );
  }
  return Buffer.from('\uFEFF' + lines.join('\r\n') + '\r\n', 'utf8');
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const RESTFUL = 'http://hl7.org/fhir/restful-interaction';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const ROLE_CLASS = 'http://terminology.hl7.org/CodeSystem/v3-RoleClass';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const PROFESSION_SYSTEM =
  'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante';
/** Carnet's own codes: the legal basis as the decision named it, and app ids. */
export const BASIS_SYSTEM = 'urn:carnet:access-basis';
export const APP_SYSTEM = 'urn:carnet:app';

interface Coding {
  system: string;
  code: string;
  display?: string;
}

interface Reference {
  reference?: string;
  type?: string;
  identifier?: { system: string; value: string };
  display?: string;
}

/** The FHIR R4 AuditEvent elements this export fills. */
export interface FhirAuditEvent {
  resourceType: 'AuditEvent';
  id: string;
  type: Coding;
  subtype?: Coding[];
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  recorded: string;
  outcome: '0' | '4' | '8';
  outcomeDesc?: string;
  purposeOfEvent?: Array<{ coding: Coding[] }>;
  agent: Array<{
    type: { coding: Coding[] };
    role?: Array<{ coding: Coding[] }>;
    who: Reference;
    requestor: boolean;
  }>;
  source: { site: string; observer: Reference; type: Coding[] };
  entity: Array<{
    what: Reference;
    type: Coding;
    role?: Coding;
    detail?: Array<{ type: string; valueString: string }>;
  }>;
}

export interface FhirBundle {
  resourceType: 'Bundle';
  type: 'collection';
  timestamp: string;
  entry: Array<{ fullUrl: string; resource: FhirAuditEvent }>;
}

/** AuditEvent.action and subtype (restful-interaction) for each action of the gate. */
const INTERACTIONS: Record<string, { action: 'C' | 'R' | 'U' | 'D' | 'E'; subtype?: string }> = {
  create: { action: 'C', subtype: 'create' },
  read: { action: 'R', subtype: 'read' },
  search: { action: 'E', subtype: 'search-type' },
  update: { action: 'U', subtype: 'update' },
  replace: { action: 'U', subtype: 'update' },
  manage: { action: 'U', subtype: 'update' },
  delete: { action: 'D', subtype: 'delete' },
};

/** Sign-ins and sign-outs are DICOM "User Authentication" events (Login, Logout), not record reads. */
const SESSION_EVENTS: Record<string, Coding> = {
  authenticate: { system: DCM, code: '110122', display: 'Login' },
  'sign-out': { system: DCM, code: '110123', display: 'Logout' },
};

/** v3 ActReason (purpose of use) for each legal basis of the decision. */
const PURPOSE: Record<string, Coding> = {
  owner: { system: ACT_REASON, code: 'PATRQT', display: 'patient requested' },
  app: { system: ACT_REASON, code: 'PATRQT', display: 'patient requested' },
  representative: { system: ACT_REASON, code: 'PWATRNY', display: 'power of attorney' },
  caregiver: { system: ACT_REASON, code: 'SUPNWK', display: 'support network' },
  emergency: { system: ACT_REASON, code: 'ETREAT', display: 'Emergency Treatment' },
  system: { system: ACT_REASON, code: 'HOPERAT', display: 'healthcare operations' },
  operator: { system: ACT_REASON, code: 'HSYSADMIN', display: 'health system administration' },
  ...Object.fromEntries(
    ['care-team', 'consent', 'gp', 'administrator', 'author', 'shared-with', 'contribution'].map((b) => [
      b,
      { system: ACT_REASON, code: 'TREAT', display: 'treatment' },
    ]),
  ),
};

function agentType(e: HistoryEntry): Coding {
  switch (e.actor.kind) {
    case 'patient':
      return { system: ROLE_CLASS, code: 'PAT', display: 'patient' };
    case 'representative':
      return e.basis === 'caregiver'
        ? { system: ROLE_CLASS, code: 'CAREGIVER', display: 'caregiver' }
        : { system: ROLE_CLASS, code: 'GUARD', display: 'guardian' };
    case 'professional':
      return { system: ROLE_CLASS, code: 'PROV', display: 'healthcare provider' };
    case 'operator':
      return { system: ROLE_CLASS, code: 'EMP', display: 'employee' };
    default:
      return { system: DCM, code: '110150', display: 'Application' };
  }
}

function agentWho(e: HistoryEntry): Reference {
  const { kind, id, display } = e.actor;
  if (id === null) return { display };
  switch (kind) {
    case 'patient':
    case 'representative':
      return { reference: `Patient/${id}`, display };
    case 'professional':
      return e.actor.identifier ? { identifier: e.actor.identifier, display } : { display };
    case 'app':
      return { identifier: { system: APP_SYSTEM, value: id }, display };
    default:
      return { display };
  }
}

/**
 * One entry as a FHIR R4 AuditEvent (IHE BALP spirit): type and subtype, agent with who and role,
 * the item and the patient as entities, outcome, and the legal basis as purposeOfEvent.
 * @example toFhirAuditEvent(entry).resourceType // 'AuditEvent'
 */
export function toFhirAuditEvent(e: HistoryEntry): FhirAuditEvent {
  const interaction = INTERACTIONS[e.action];
  const known = e.basis ? PURPOSE[e.basis] : undefined;
  const purpose = e.basis
    ? [{ coding: [...(known ? [known] : []), { system: BASIS_SYSTEM, code: e.basis }] }]
    : undefined;
  const profession = e.actor.profession;
  const session = e.entity.type === 'Session' ? SESSION_EVENTS[e.action] : undefined;
  const subtype =
    session ?? (interaction?.subtype ? { system: RESTFUL, code: interaction.subtype } : undefined);
  return {
    resourceType: 'AuditEvent',
    id: e.id,
    type: session
      ? { system: DCM, code: '110114', display: 'User Authentication' }
      : { system: DCM, code: '110110', display: 'Patient Record' },
    ...(subtype ? { subtype: [subtype] } : {}),
    action: session ? 'E' : (interaction?.action ?? 'E'),
    recorded: e.at.toISOString(),
    outcome: e.outcome === 'success' ? '0' : e.outcome === 'denied' ? '4' : '8',
    ...(e.outcome === 'success' ? {} : { outcomeDesc: e.outcome }),
    ...(purpose ? { purposeOfEvent: purpose } : {}),
    agent: [
      {
        type: { coding: [agentType(e)] },
        ...(profession
          ? {
              role: [
                { coding: [{ system: PROFESSION_SYSTEM, code: profession.code, display: profession.label }] },
              ],
            }
          : {}),
        who: agentWho(e),
        requestor: true,
      },
    ],
    source: {
      site: 'Carnet',
      observer: { display: 'Carnet' },
      type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }],
    },
    entity: [
      {
        what: e.entity.id
          ? { reference: `${e.entity.type}/${e.entity.id}`, type: e.entity.type }
          : { type: e.entity.type },
        type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
        ...(e.method ? { detail: [{ type: 'method', valueString: e.method }] } : {}),
      },
      {
        what: { reference: `Patient/${e.patientId}` },
        type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
        role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
      },
    ],
  };
}

/**
 * The history as a FHIR Bundle of type collection.
 * @example historyBundle(entries, new Date()).type // 'collection'
 */
export function historyBundle(entries: readonly HistoryEntry[], now: Date): FhirBundle {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: now.toISOString(),
    entry: entries.map((e) => ({ fullUrl: `urn:uuid:${e.id}`, resource: toFhirAuditEvent(e) })),
  };
}
