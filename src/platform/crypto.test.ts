import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveKey, masterKeyFrom, openDocument, sealDocument, sha1Base64, sha256 } from './crypto.ts';

const master = masterKeyFrom(randomBytes(32));
const other = masterKeyFrom(randomBytes(32));

describe('envelope encryption', () => {
  it.each([0, 1, 100, 100 * 1024])('round-trips %i bytes', (n) => {
    const plain = randomBytes(n);
    const sealed = sealDocument(master, plain, 'p/d');
    expect(openDocument(master, sealed.blob, sealed.wrappedKey, 'p/d').equals(plain)).toBe(true);
    expect(sealed.keyId).toBe(master.id);
  });

  it('never stores the plaintext or its hash in the blob', () => {
    const plain = Buffer.from('Compte rendu: glycémie 0,95 g/L '.repeat(50));
    const { blob, wrappedKey } = sealDocument(master, plain, 'p/d');
    expect(blob.includes(plain.subarray(0, 32))).toBe(false);
    expect(blob.includes(sha256(plain))).toBe(false);
    expect(wrappedKey.length).toBe(1 + 12 + 32 + 16);
  });

  it('uses a fresh key and IV per document', () => {
    const plain = Buffer.from('same content');
    const a = sealDocument(master, plain, 'p/d');
    const b = sealDocument(master, plain, 'p/d');
    expect(a.blob.equals(b.blob)).toBe(false);
    expect(a.wrappedKey.equals(b.wrappedKey)).toBe(false);
  });

  const tamper = (buf: Buffer, at: number): Buffer => {
    const copy = Buffer.from(buf);
    copy[at] = (copy[at] ?? 0) ^ 0x01;
    return copy;
  };

  it.each([
    [
      'a flipped ciphertext byte',
      (s: ReturnType<typeof sealDocument>) => [tamper(s.blob, 20), s.wrappedKey, 'p/d', master] as const,
    ],
    [
      'a flipped tag byte',
      (s: ReturnType<typeof sealDocument>) =>
        [tamper(s.blob, s.blob.length - 1), s.wrappedKey, 'p/d', master] as const,
    ],
    [
      'a flipped wrapped-key byte',
      (s: ReturnType<typeof sealDocument>) => [s.blob, tamper(s.wrappedKey, 14), 'p/d', master] as const,
    ],
    [
      'another record’s associated data',
      (s: ReturnType<typeof sealDocument>) => [s.blob, s.wrappedKey, 'p/other', master] as const,
    ],
    [
      'another master key',
      (s: ReturnType<typeof sealDocument>) => [s.blob, s.wrappedKey, 'p/d', other] as const,
    ],
    [
      'a truncated blob',
      (s: ReturnType<typeof sealDocument>) => [s.blob.subarray(0, 10), s.wrappedKey, 'p/d', master] as const,
    ],
    [
      'an unknown version',
      (s: ReturnType<typeof sealDocument>) =>
        [Buffer.concat([Buffer.from([9]), s.blob.subarray(1)]), s.wrappedKey, 'p/d', master] as const,
    ],
  ])('refuses %s', (_name, mutate) => {
    const sealed = sealDocument(master, randomBytes(200), 'p/d');
    const [blob, wrapped, aad, key] = mutate(sealed);
    expect(() => openDocument(key, blob, wrapped, aad)).toThrow();
  });

  it('refuses a master key that is not 256 bits', () => {
    expect(() => masterKeyFrom(randomBytes(16))).toThrow(/32 bytes/);
  });

  it('derives distinct, stable keys per purpose', () => {
    expect(deriveKey(master, 'a').equals(deriveKey(master, 'a'))).toBe(true);
    expect(deriveKey(master, 'a').equals(deriveKey(master, 'b'))).toBe(false);
    expect(deriveKey(master, 'a').equals(deriveKey(other, 'a'))).toBe(false);
  });

  it('computes the FHIR attachment hash (SHA-1, base64)', () => {
    // The PDSm ITI-65 example declares this hash for its 80-byte CDA.
    const cda = Buffer.from(
      'PD94bWwgdmVyc2lvbj0iMS4wIiBlbmNvZGluZz0iVVRGLTgiPz48Q2xpbmljYWxEb2N1bWVudCB4bWxucz0idXJuOmhsNy1vcmc6djMiLz4=',
      'base64',
    );
    expect(cda.length).toBe(80);
    expect(sha1Base64(cda)).toBe('A/hMRrv6Y15BjSM8kMLidrz+mHc=');
  });
});
