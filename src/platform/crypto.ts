import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Envelope encryption of documents at rest.
 *
 * Each document gets its own random 256-bit data key (DEK). The content is sealed with AES-256-GCM
 * under the DEK; the DEK is wrapped (AES-256-GCM again) by the master key from config. Only the
 * wrapped DEK is stored, in the database row; the blob store only ever holds ciphertext. Deleting
 * the row's wrapped key makes the blob unreadable (crypto-shredding).
 *
 * Both seals carry associated data (patient id + document id), so a blob or a wrapped key moved to
 * another record does not decrypt.
 *
 * Layout of a sealed buffer: version byte (1) | IV (12) | ciphertext | GCM tag (16).
 */

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface MasterKey {
  /** Short stable id stored with every wrapped key, so keys can be rotated. */
  readonly id: string;
  readonly key: Buffer;
}

/** @example const mk = masterKeyFrom(Buffer.alloc(32, 7)); mk.id // 'mk-…' */
export function masterKeyFrom(key: Buffer): MasterKey {
  if (key.length !== 32) throw new Error('The master key must be 32 bytes (256 bits)');
  const id =
    'mk-' + createHash('sha256').update('carnet-master-key-id').update(key).digest('hex').slice(0, 12);
  return { id, key };
}

function seal(key: Buffer, plaintext: Uint8Array, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const head = Buffer.from([VERSION]);
  const body = cipher.update(plaintext);
  const tail = cipher.final();
  return Buffer.concat([head, iv, body, tail, cipher.getAuthTag()]);
}

function open(key: Buffer, sealed: Uint8Array, aad: string): Buffer {
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (buf.length < 1 + IV_BYTES + TAG_BYTES || buf[0] !== VERSION) {
    throw new Error('Sealed data is truncated or of an unknown version');
  }
  const iv = buf.subarray(1, 1 + IV_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([
    decipher.update(buf.subarray(1 + IV_BYTES, buf.length - TAG_BYTES)),
    decipher.final(),
  ]);
}

export interface SealedDocument {
  /** What goes to the blob store. */
  blob: Buffer;
  /** What goes to the database row. */
  wrappedKey: Buffer;
  keyId: string;
}

/**
 * @example const s = sealDocument(mk, bytes, `${patientId}/${docId}`);
 */
export function sealDocument(master: MasterKey, plaintext: Uint8Array, aad: string): SealedDocument {
  const dek = randomBytes(32);
  try {
    return {
      blob: seal(dek, plaintext, aad),
      wrappedKey: seal(master.key, dek, `dek:${aad}`),
      keyId: master.id,
    };
  } finally {
    dek.fill(0);
  }
}

/** Throws when anything was altered: blob, wrapped key, or associated data. */
export function openDocument(
  master: MasterKey,
  blob: Uint8Array,
  wrappedKey: Uint8Array,
  aad: string,
): Buffer {
  const dek = open(master.key, wrappedKey, `dek:${aad}`);
  try {
    return open(dek, blob, aad);
  } finally {
    dek.fill(0);
  }
}

/** Derives a purpose-bound secret from the master key (e.g. the token-signing key). */
export function deriveKey(master: MasterKey, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master.key, Buffer.alloc(0), `carnet:${purpose}`, 32));
}

export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

export function sha1Base64(data: Uint8Array): string {
  return createHash('sha1').update(data).digest('base64');
}

/** A URL-safe random token (for secrets and session ids). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** HMAC-SHA-256: the keyed hash under which short secrets (provisional codes, one-time codes) are kept. */
export function keyedHash(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/**
 * Seals a small secret (a TOTP seed, a code awaiting delivery) under a key derived from the master
 * key for `purpose`; `aad` binds it to its row (e.g. `${patientId}/${id}`).
 */
export function sealSecret(master: MasterKey, purpose: string, plaintext: string, aad: string): Buffer {
  return seal(deriveKey(master, `secret:${purpose}`), Buffer.from(plaintext, 'utf8'), aad);
}

/** Throws when the sealed secret was altered or belongs to another row. */
export function openSecret(master: MasterKey, purpose: string, sealed: Uint8Array, aad: string): string {
  return open(deriveKey(master, `secret:${purpose}`), sealed, aad).toString('utf8');
}
