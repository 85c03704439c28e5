import type { StoredAuditEvent } from './audit.ts';

/**
 * One line of a person's activity history, as shown and downloaded: who, in what role, did what,
 * when, with what outcome, on what legal basis. Internal fields (request ids, reasons, clients)
 * stay out.
 */
export interface HistoryEntry {
  id: string;
  seq: string;
  patientId: string;
  at: Date;
  actor: {
    kind: string;
    id: string | null;
    display: string;
    /** The professional's profession (TRE_G15), when known. */
    profession?: { code: string; label: string };
    /** A business identifier of the actor (a professional's IDNPS), for the FHIR download. */
    identifier?: { system: string; value: string };
  };
  action: string;
  entity: { type: string; id: string | null };
  outcome: 'success' | 'denied' | 'failure';
  basis: string | null;
  /** How the person signed in (password, password+totp, password+email, passkey), on sign-ins and activation. */
  method?: string;
  /** Carnet's wording of the entry, French and English, where it has one (sign-ins, sign-outs). */
  label?: { fr: string; en: string };
}

/** The sign-in methods as the person knows them. */
const METHOD_WORDS: Readonly<Record<string, { fr: string; en: string }>> = {
  password: { fr: 'mot de passe', en: 'password' },
  'password+totp': {
    fr: 'mot de passe et application d’authentification',
    en: 'password and authenticator app',
  },
  'password+email': { fr: 'mot de passe et code reçu par e-mail', en: 'password and e-mailed code' },
  passkey: { fr: 'clé d’accès', en: 'passkey' },
};

/** The auth method a sign-in or activation event names (its details' `method`), if any. */
function signInMethod(event: StoredAuditEvent): string | undefined {
  if (event.outcome !== 'success') return undefined;
  if (!(event.action === 'authenticate' && event.entity.type === 'Session') && event.action !== 'activate')
    return undefined;
  const method = event.details.method;
  return typeof method === 'string' && method.length <= 40 ? method : undefined;
}

/**
 * Wording of the session and activation entries of the "my activities" tab; neutral ("Connexion",
 * not "your"), since a representative reads the represented person's history too.
 */
function labelOf(event: StoredAuditEvent, method: string | undefined): HistoryEntry['label'] {
  const how = method ? METHOD_WORDS[method] : undefined;
  const withHow = (l: { fr: string; en: string }) =>
    how ? { fr: `${l.fr} (${how.fr})`, en: `${l.en} (${how.en})` } : l;
  const { action, outcome } = event;
  const type = event.entity.type;
  if (action === 'authenticate' && type === 'Session')
    return outcome === 'success'
      ? withHow({ fr: 'Connexion', en: 'Sign-in' })
      : { fr: 'Tentative de connexion refusée', en: 'Refused sign-in attempt' };
  if (outcome !== 'success') return undefined;
  if (action === 'sign-out' && type === 'Session') return { fr: 'Déconnexion', en: 'Sign-out' };
  if (action === 'revoke' && type === 'Session')
    return event.entity.id
      ? { fr: 'Déconnexion d’un appareil', en: 'Device signed out' }
      : { fr: 'Déconnexion des appareils', en: 'Devices signed out' };
  if (action === 'activate' && type === 'Account')
    return withHow({ fr: 'Activation de l’espace', en: 'Space activated' });
  return undefined;
}

export const HIDDEN_PERSON = 'Une autre personne';

/** What the audit module cannot know itself: names and identifiers owned by the identity module. */
export interface ActorLookups {
  professionLabel(code: string): string | undefined;
  professionalIdentifier(rpps: string): { system: string; value: string } | undefined;
}

/**
 * Shapes a stored event for the record's owner. Someone else's attempt on the record is shown, but
 * not who they are: their identity is theirs.
 * @example presentHistoryEntry(event, patientId, { professionLabel, professionalIdentifier })
 */
export function presentHistoryEntry(
  event: StoredAuditEvent,
  patientId: string,
  lookups: ActorLookups,
): HistoryEntry {
  const { actor } = event;
  const stranger =
    (actor.kind === 'patient' && actor.id !== patientId) ||
    (actor.kind === 'representative' && event.outcome !== 'success');
  const label = actor.professionCode ? lookups.professionLabel(actor.professionCode) : undefined;
  const identifier =
    actor.kind === 'professional' && actor.id ? lookups.professionalIdentifier(actor.id) : undefined;
  const method = signInMethod(event);
  const wording = labelOf(event, method);
  return {
    id: event.id,
    seq: event.seq,
    patientId,
    at: event.recordedAt,
    actor: stranger
      ? { kind: actor.kind, id: null, display: HIDDEN_PERSON }
      : {
          kind: actor.kind,
          id: actor.id,
          display: actor.display,
          ...(actor.professionCode && label ? { profession: { code: actor.professionCode, label } } : {}),
          ...(identifier ? { identifier } : {}),
        },
    action: event.action,
    entity: event.entity,
    outcome: event.outcome,
    basis: event.basis,
    ...(method ? { method } : {}),
    ...(wording ? { label: wording } : {}),
  };
}
