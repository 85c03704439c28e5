import type { Config } from '../../config.ts';
import type { NewAuditEvent } from '../audit/index.ts';

/**
 * Passkeys (WebAuthn, DOMAIN §1): pure rules and shapes. The relying party is Carnet's public
 * address (config.baseUrl): its host name is the RP ID, its origin the only origin accepted.
 * Every ceremony requires user verification (PIN, fingerprint…), so a passkey alone is a strong
 * ("substantial") authentication, an alternative to password + second factor.
 */

/** How long a challenge handed to a browser stays usable (single use). */
export const CHALLENGE_MINUTES = 5;
export const RP_NAME = 'Carnet';
export const MAX_PASSKEY_NAME = 64;
/**
 * COSE algorithms offered and accepted: EdDSA, ES256, RS256 (what authenticators ship). ML-DSA,
 * which the library would offer first where the runtime has it, is left out while Node marks it
 * experimental.
 */
export const ALGORITHMS: readonly number[] = [-8, -7, -257];
export const TRANSPORTS = ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** The relying party as browsers see it. */
export function relyingParty(config: Pick<Config, 'baseUrl'>): { rpID: string; origin: string } {
  const url = new URL(config.baseUrl);
  return { rpID: url.hostname, origin: url.origin };
}

/** A passkey as its owner sees it in the list of their devices. */
export interface PasskeyView {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  /** Synced by the provider (iCloud keychain, Google password manager…), not bound to one device. */
  backedUp: boolean;
}

/** A name the person chose, trimmed; or the default one, from the day it was added. */
export function passkeyName(given: string | undefined, at: Date): string {
  const name = given?.trim().replace(/\s+/g, ' ');
  return name ? name.slice(0, MAX_PASSKEY_NAME) : `Passkey ${at.toISOString().slice(0, 10)}`;
}

/** Only the transports WebAuthn defines are kept (they are hints handed back to browsers). */
export function knownTransports(given: readonly string[] | undefined): Transport[] {
  return (given ?? []).filter((t): t is Transport => (TRANSPORTS as readonly string[]).includes(t));
}

/**
 * The signature counter must move forwards. Authenticators that do not count (synced passkeys)
 * always send 0 and are accepted; once either side is non-zero, a counter that does not increase
 * betrays a cloned authenticator.
 */
export function counterMovesForward(stored: number, received: number): boolean {
  if (stored === 0 && received === 0) return true;
  return received > stored;
}

/** A stored passkey as its owner sees it. */
export function toView(row: {
  id: string;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
  backed_up: boolean;
}): PasskeyView {
  return {
    id: row.id,
    name: row.name,
    createdAt: new Date(row.created_at).toISOString(),
    lastUsedAt: row.last_used_at ? new Date(row.last_used_at).toISOString() : null,
    backedUp: row.backed_up,
  };
}

/** The person acting on their own passkeys, as the audit trail names them. */
export function patientAuditActor(patientId: string, display: string): NewAuditEvent['actor'] {
  return { kind: 'patient', id: patientId, display, organizationId: null, clientId: null };
}
