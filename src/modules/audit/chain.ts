import { createHash } from 'node:crypto';

/**
 * The hash chain of a patient's audit events, as pure functions.
 *
 * Link k of a chain: `hash_k = SHA-256(hash_{k-1} ‖ canonicalJson(content_k))`, where content_k is
 * every stored field of the event plus its place `chainIndex` = k, and hash_0 is a genesis value
 * bound to the chain's key. Changing, removing, reordering or inserting an event changes every
 * later hash; rewriting a whole chain consistently is caught by the signed checkpoints.
 */

/** The chain of events that have no patient (e.g. a denial before any record could be named). */
export const NO_PATIENT_CHAIN = '00000000-0000-0000-0000-000000000000';

export const CHAIN_VERSION = 1;

/** @example chainKeyOf(null) // '00000000-0000-0000-0000-000000000000' */
export function chainKeyOf(patientId: string | null): string {
  return patientId ?? NO_PATIENT_CHAIN;
}

/** @example patientOfChain(NO_PATIENT_CHAIN) // null */
export function patientOfChain(chainKey: string): string | null {
  return chainKey === NO_PATIENT_CHAIN ? null : chainKey;
}

/** An event as stored, in the exact form that is hashed (timestamps as text to the microsecond). */
export interface ChainedEvent {
  id: string;
  seq: string;
  patientId: string | null;
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ`, rendered by the database so no precision is lost. */
  recordedAt: string;
  actorKind: string;
  actorId: string | null;
  actorDisplay: string;
  actorProfession: string | null;
  onBehalfOf: string | null;
  organizationId: string | null;
  clientId: string | null;
  action: string;
  entityType: string;
  entityId: string | null;
  outcome: string;
  basis: string | null;
  reason: string | null;
  requestId: string | null;
  details: unknown;
}

/**
 * JSON with object keys sorted at every level, no whitespace: one text per value.
 * @example canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value) as string | undefined;
    if (text === undefined) throw new Error(`canonicalJson: ${typeof value} has no JSON form`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** hash_0 of a chain. @example genesisHash(NO_PATIENT_CHAIN).length // 32 */
export function genesisHash(chainKey: string): Buffer {
  return createHash('sha256').update(`carnet-audit-chain:v${CHAIN_VERSION}:${chainKey}`).digest();
}

/**
 * The hash of link `chainIndex`, given the previous link's hash.
 * @example const h1 = linkHash(genesisHash(key), event, 1);
 */
export function linkHash(previous: Uint8Array, event: ChainedEvent, chainIndex: number): Buffer {
  return createHash('sha256')
    .update(previous)
    .update(canonicalJson(chainedContent(event, chainIndex)), 'utf8')
    .digest();
}

/** Exactly the hashed fields (the event object may carry more, e.g. its stored link). */
function chainedContent(e: ChainedEvent, chainIndex: number): Record<string, unknown> {
  return {
    v: CHAIN_VERSION,
    chainIndex,
    id: e.id,
    seq: e.seq,
    patientId: e.patientId,
    recordedAt: e.recordedAt,
    actorKind: e.actorKind,
    actorId: e.actorId,
    actorDisplay: e.actorDisplay,
    actorProfession: e.actorProfession,
    onBehalfOf: e.onBehalfOf,
    organizationId: e.organizationId,
    clientId: e.clientId,
    action: e.action,
    entityType: e.entityType,
    entityId: e.entityId,
    outcome: e.outcome,
    basis: e.basis,
    reason: e.reason,
    requestId: e.requestId,
    details: e.details,
  };
}
