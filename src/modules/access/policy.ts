import type { Actor, ProfessionalActor, RepresentativeActor } from './actor.ts';
import { matrixAllows, type AccessMatrix } from './matrix.ts';

/**
 * The access decision, as one pure function over data (DOMAIN §2–§4). Every read or write of a
 * person's data is decided here and nowhere else: the gate (gate.ts) calls it and records the
 * outcome with its legal basis; "see my record as Dr X would" calls it with a hypothetical actor.
 */

export type Action = 'create' | 'read' | 'search' | 'update' | 'delete' | 'replace' | 'manage';

/** What the decision needs to know about a document — never its content. */
export interface ItemFacts {
  readonly type: 'DocumentReference';
  readonly id: string;
  readonly patientId: string;
  readonly source: 'professional' | 'patient';
  readonly authorProfessionalId: string | null;
  /** TRE_A07 / v3 confidentiality codes carried by the document (MASQUE_PS, INVISIBLE_PATIENT…). */
  readonly confidentiality: readonly string[];
  readonly classCode: string | null;
  readonly typeCode: string | null;
  /** Hidden (true) or shown (false) by the patient's choice for this document; null follows "mask by default". */
  readonly masked: boolean | null;
  /** Delayed release: invisible to the patient (and representatives) before this instant. */
  readonly releaseAt: Date | null;
}

export interface AccessRequest {
  readonly patientId: string;
  readonly action: Action;
  /** The kind of data: 'DocumentReference', 'Binary', 'AuditEvent', 'Notification', 'AccessRule'… */
  readonly entityType: string;
  /** Absent for actions on the record as a whole (create, search, history, settings). */
  readonly item?: ItemFacts;
  /** For entityType 'EmergencyAccess': which emergency path is asked for. */
  readonly emergencyMode?: 'samu' | 'break_glass';
}

export type RuleKind =
  'care_team' | 'consent' | 'role' | 'block' | 'share' | 'emergency' | 'representation' | 'app';
export type RoleName =
  | 'gp'
  | 'administrator'
  | 'referent_midwife'
  | 'correspondent_pharmacist'
  | 'legal_representative'
  | 'caregiver'
  | 'guardian';

export interface AccessRule {
  readonly id: string;
  readonly kind: RuleKind;
  readonly professionalId: string | null;
  readonly personId: string | null;
  readonly documentId: string | null;
  readonly role: RoleName | null;
  readonly scopes: readonly string[];
  /** How a consent was given (in_person, phone, online, card), for the record. */
  readonly channel: string | null;
  /** Why an emergency access was opened. */
  readonly reason: string | null;
  readonly startsAt: Date;
  readonly endsAt: Date | null;
  readonly revokedAt: Date | null;
  /** Kind-specific facts: emergency `{ mode: 'samu' | 'break_glass' }`, app `{ appId }`. */
  readonly details: Readonly<Record<string, unknown>>;
}

export interface PrivacySettings {
  readonly maskByDefault: boolean;
  readonly samuAccess: boolean;
  readonly breakGlassAccess: boolean;
  readonly emergencyIncludesMasked: boolean;
}

export const DEFAULT_SETTINGS: PrivacySettings = {
  maskByDefault: false,
  samuAccess: true,
  breakGlassAccess: true,
  emergencyIncludesMasked: false,
};

/** The state of the person's space (identity): see DOMAIN §2. */
export type AccountStatus = 'pending' | 'opposed' | 'open' | 'suspended' | 'closed';

/** Everything a record says about who may see it. */
export interface RecordPolicy {
  readonly patientId: string;
  readonly settings: PrivacySettings;
  readonly rules: readonly AccessRule[];
  /** Absent: open. A closed or suspended space is archived: see `decideForAccountState`. */
  readonly accountStatus?: AccountStatus;
}

export type Basis =
  | 'owner'
  | 'representative'
  | 'caregiver'
  | 'care-team'
  | 'consent'
  | 'gp'
  | 'administrator'
  | 'emergency'
  | 'author'
  | 'shared-with'
  | 'contribution'
  | 'app'
  | 'system';

export type Decision =
  | { readonly allow: true; readonly basis: Basis; readonly ruleId?: string }
  | {
      readonly allow: false;
      readonly reason: string;
      /** True when the actor may know the item exists (then 403 with the reason, else 404). */
      readonly visible: boolean;
    };

export interface DecisionInput {
  readonly actor: Actor;
  readonly request: AccessRequest;
  readonly policy: RecordPolicy;
  readonly matrix: AccessMatrix;
  readonly now: Date;
}

const CHANGES: readonly Action[] = ['update', 'delete', 'replace'];
const HIDDEN = (reason: string): Decision => ({ allow: false, reason, visible: false });
const allow = (basis: Basis, ruleId?: string): Decision =>
  ruleId ? { allow: true, basis, ruleId } : { allow: true, basis };

export function isLive(rule: AccessRule, now: Date): boolean {
  return rule.revokedAt === null && rule.startsAt <= now && (rule.endsAt === null || rule.endsAt > now);
}

/** Invisible to the patient and their representatives until released (INVISIBLE_PATIENT). */
export function awaitsRelease(item: ItemFacts, now: Date): boolean {
  return item.releaseAt !== null && item.releaseAt > now;
}

/**
 * Hidden from professionals: by its author's MASQUE_PS code, by the patient's choice for this
 * document, or — when the patient made no choice for it — by "mask by default", which thus covers
 * present and future documents alike (DOMAIN §4.3).
 */
export function isMasked(item: ItemFacts, settings: PrivacySettings): boolean {
  return item.confidentiality.includes('MASQUE_PS') || (item.masked ?? settings.maskByDefault);
}

/**
 * @example decide({ actor, request: { patientId, action: 'read', entityType: 'DocumentReference', item }, policy, matrix, now })
 */
export function decide(input: DecisionInput): Decision {
  const { actor, request, policy } = input;
  if (policy.patientId !== request.patientId) return HIDDEN('policy of another record');
  if (request.item && request.item.patientId !== request.patientId)
    return HIDDEN('item belongs to another record');
  const state = decideForAccountState(actor, request, policy.accountStatus ?? 'open');
  if (state) return state;
  switch (actor.kind) {
    case 'patient':
      if (actor.patientId !== request.patientId) return HIDDEN('not the owner of this record');
      return decideForHolder(request, input.now, 'owner');
    case 'representative':
      return decideForRepresentative(actor, input);
    case 'professional':
      return decideForProfessional(actor, input);
    case 'app': {
      const rule = policy.rules.find(
        (r) => r.kind === 'app' && r.details.appId === actor.appId && isLive(r, input.now),
      );
      const scope = `${scopeOf(request.entityType)}.${request.action === 'read' || request.action === 'search' ? 'read' : 'write'}`;
      if (!rule || !rule.scopes.includes(scope) || !actor.scopes.includes(scope))
        return HIDDEN('no consent for this app');
      if (request.item && awaitsRelease(request.item, input.now)) return HIDDEN('awaiting release');
      return allow('app', rule.id);
    }
    case 'operator':
      return HIDDEN('operators have no access to health data');
    case 'system':
      return allow('system');
  }
}

/**
 * Entity type of the space itself (close, reopen, ask for erasure): what the owner of a closed
 * space may still do.
 */
export const ACCOUNT_ENTITY = 'Account';

/**
 * A closed space is archived (DOMAIN §2): kept, unreadable by professionals, representatives and
 * apps; its owner may only act on the space itself (reopen it, ask for erasure). A suspended space
 * (fraud) is frozen the same way, for its owner too: they answer the operator's notice outside
 * the space. Pending and opposed spaces hold the pre-existing record: professionals keep their
 * rights on it. Returns undefined when the state does not decide.
 */
function decideForAccountState(
  actor: Actor,
  request: AccessRequest,
  status: AccountStatus,
): Decision | undefined {
  if (actor.kind === 'system') return undefined;
  if (status === 'closed') {
    if (actor.kind === 'patient' && request.entityType === ACCOUNT_ENTITY) return undefined;
    return HIDDEN('the space is closed (archived)');
  }
  if (status === 'suspended') return HIDDEN('the space is suspended');
  if ((status === 'pending' || status === 'opposed') && actor.kind !== 'professional')
    return HIDDEN(`the space is not open (${status})`);
  return undefined;
}

/** The person themself, or a representative with full rights (basis given). */
function decideForHolder(request: AccessRequest, now: Date, basis: Basis, ruleId?: string): Decision {
  const item = request.item;
  if (item && awaitsRelease(item, now)) return HIDDEN('awaiting release by its author');
  if (item && CHANGES.includes(request.action) && item.source !== 'patient') {
    return {
      allow: false,
      reason:
        'Documents added by professionals cannot be changed or deleted by the patient (they can be hidden)',
      visible: true,
    };
  }
  return allow(basis, ruleId);
}

/** Caregivers get only the scopes the person chose; one per kind of data. */
export function scopeOf(entityType: string): string {
  switch (entityType) {
    case 'DocumentReference':
    case 'Binary':
    case 'List':
      return 'documents';
    case 'AuditEvent':
    case 'Dispute':
      return 'history';
    case 'Notification':
    case 'NotificationPreference':
      return 'notifications';
    case 'Appointment':
      return 'agenda';
    case 'Communication':
      return 'messages';
    case 'AccessRule':
    case 'PrivacySettings':
      return 'privacy';
    case 'Observation':
      return 'measurements';
    case 'Immunization':
      return 'vaccinations';
    case 'Profile':
    case 'Synthesis':
      return 'profile';
    default:
      return entityType.toLowerCase();
  }
}

function decideForRepresentative(actor: RepresentativeActor, input: DecisionInput): Decision {
  const { request, policy, now } = input;
  const rule = policy.rules.find(
    (r) => r.kind === 'representation' && r.personId === actor.personId && isLive(r, now),
  );
  if (!rule) return HIDDEN('no live representation of this person');
  const item = request.item;
  if (item?.confidentiality.includes('INVISIBLE_REPRESENTANTS_LEGAUX')) {
    return HIDDEN("confidential act, invisible to representatives at the minor's request");
  }
  if (rule.role === 'caregiver') {
    // Who may see the record (rules, settings, masking, sharing, the space itself) stays the
    // person's: a caregiver never manages it, whatever the scopes.
    const scope = request.action === 'manage' ? 'privacy' : scopeOf(request.entityType);
    if (!rule.scopes.includes(scope) || scope === 'privacy')
      return HIDDEN(`outside the caregiver's scope (${scope})`);
    return decideForHolder(request, now, 'caregiver', rule.id);
  }
  return decideForHolder(request, now, 'representative', rule.id);
}

/**
 * The person's structured health data: medical profile, measurements (FHIR Observation),
 * vaccinations (Immunization), and the synthesis built from them.
 */
export const STRUCTURED_HEALTH_DATA: readonly string[] = [
  'Profile',
  'Observation',
  'Immunization',
  'Synthesis',
];

/**
 * Structured data for professionals: read by those in a live care relationship with the person
 * (GP, administrator, care team, consent, emergency) and not blocked; measurements and
 * vaccinations added by them too (contribution, DOMAIN §4.2). Who may change an entry afterwards
 * (its author; entries confirmed by a professional are locked for the patient) is the owning
 * module's rule over its own rows.
 */
function decideStructuredForProfessional(
  request: AccessRequest,
  related: ReadonlyArray<{ basis: Basis; rule: AccessRule }>,
  blocked: boolean,
): Decision {
  if (blocked) return HIDDEN('blocked by the patient');
  const chosen = related[0];
  if (!chosen) return HIDDEN('no care relationship, consent or emergency access');
  switch (request.action) {
    case 'read':
    case 'search':
      return allow(chosen.basis, chosen.rule.id);
    case 'create':
    case 'update':
      return request.entityType === 'Observation' || request.entityType === 'Immunization'
        ? allow(chosen.basis, chosen.rule.id)
        : HIDDEN('professionals do not edit the patient’s own profile');
    default:
      return HIDDEN('not available to professionals');
  }
}

const RELATION_ORDER: readonly Basis[] = ['gp', 'administrator', 'care-team', 'consent', 'emergency'];

/** The professional's live relationships with the record, strongest first. */
function relationships(
  actor: ProfessionalActor,
  input: DecisionInput,
): Array<{ basis: Basis; rule: AccessRule }> {
  const { policy, now } = input;
  const out: Array<{ basis: Basis; rule: AccessRule }> = [];
  for (const r of policy.rules) {
    if (r.professionalId !== actor.professionalId || !isLive(r, now)) continue;
    if (r.kind === 'role' && (r.role === 'gp' || r.role === 'administrator'))
      out.push({ basis: r.role, rule: r });
    else if (r.kind === 'role' || r.kind === 'care_team') out.push({ basis: 'care-team', rule: r });
    else if (r.kind === 'consent') out.push({ basis: 'consent', rule: r });
    else if (r.kind === 'emergency' && emergencyStillPermitted(r, policy.settings, actor)) {
      out.push({ basis: 'emergency', rule: r });
    }
  }
  return out.sort((a, b) => RELATION_ORDER.indexOf(a.basis) - RELATION_ORDER.indexOf(b.basis));
}

/** An emergency access stops as soon as the patient turns off the switch it relied on. */
function emergencyStillPermitted(
  rule: AccessRule,
  settings: PrivacySettings,
  actor: ProfessionalActor,
): boolean {
  return rule.details.mode === 'samu'
    ? settings.samuAccess && actor.emergencyRegulator === true
    : settings.breakGlassAccess;
}

/**
 * Opening an emergency access (DOMAIN §4.6): the regulator on a call (SAMU switch), or any
 * professional facing a person unable to consent (break-glass switch) — unless the person opposed
 * beforehand through that switch, or blocked this professional.
 */
function decideEmergencyOpening(actor: ProfessionalActor, input: DecisionInput, blocked: boolean): Decision {
  const { settings } = input.policy;
  if (blocked) return HIDDEN('blocked by the patient');
  if (input.request.emergencyMode === 'samu') {
    if (actor.emergencyRegulator !== true)
      return {
        allow: false,
        reason: 'Only the emergency regulation (SAMU) may use this path',
        visible: true,
      };
    return settings.samuAccess
      ? allow('emergency')
      : { allow: false, reason: 'The person opposed access by the emergency regulation', visible: true };
  }
  return settings.breakGlassAccess
    ? allow('emergency')
    : { allow: false, reason: 'The person opposed emergency access', visible: true };
}

function decideForProfessional(actor: ProfessionalActor, input: DecisionInput): Decision {
  const { request, policy, now } = input;
  const item = request.item;
  const blocked = policy.rules.some(
    (r) => r.kind === 'block' && r.professionalId === actor.professionalId && isLive(r, now),
  );
  const related = blocked ? [] : relationships(actor, input);

  if (!item && STRUCTURED_HEALTH_DATA.includes(request.entityType)) {
    return decideStructuredForProfessional(request, related, blocked);
  }
  if (!item) {
    switch (request.action) {
      // A patient may not refuse that a professional adds useful documents (DOMAIN §4.2).
      case 'create':
        if (request.entityType === 'EmergencyAccess') return decideEmergencyOpening(actor, input, blocked);
        return request.entityType === 'DocumentReference' || request.entityType === 'List'
          ? allow('contribution')
          : HIDDEN('professionals only add documents');
      // The search itself is allowed; every item it returns is decided on its own.
      case 'search':
        return allow(related[0]?.basis ?? 'author', related[0]?.rule.id);
      case 'read': {
        // Traces are shown to professionals with GP rights (DOMAIN §5).
        const gp = related.find((r) => r.basis === 'gp' || r.basis === 'administrator');
        return request.entityType === 'AuditEvent' && gp
          ? allow(gp.basis, gp.rule.id)
          : HIDDEN('not available to professionals');
      }
      default:
        return HIDDEN('not available to professionals');
    }
  }

  const isAuthor = item.authorProfessionalId === actor.professionalId;
  if (CHANGES.includes(request.action)) {
    if (isAuthor) return allow('author');
    const read = decideForProfessional(actor, { ...input, request: { ...request, action: 'read' } });
    return read.allow
      ? { allow: false, reason: 'Only its author may change this document', visible: true }
      : read;
  }
  if (request.action !== 'read') return HIDDEN('not available to professionals');
  // The author keeps seeing what they wrote (they hold it in their own software anyway).
  if (isAuthor) return allow('author');
  if (blocked) return HIDDEN('blocked by the patient');
  const share = policy.rules.find(
    (r) =>
      r.kind === 'share' &&
      r.professionalId === actor.professionalId &&
      r.documentId === item.id &&
      isLive(r, now),
  );
  if (share) return allow('shared-with', share.id);
  if (related.length === 0) return HIDDEN('no care relationship, consent or emergency access');
  const masked = isMasked(item, policy.settings);
  const usable = masked
    ? related.filter(
        (r) =>
          r.basis === 'gp' ||
          r.basis === 'administrator' ||
          (r.basis === 'emergency' && policy.settings.emergencyIncludesMasked),
      )
    : related;
  const chosen = usable[0];
  if (!chosen) return HIDDEN('masked by the patient');
  if (!matrixAllows(input.matrix, actor.professionCode, item.typeCode, item.classCode)) {
    return HIDDEN('this profession may not read this type of document');
  }
  return allow(chosen.basis, chosen.rule.id);
}
