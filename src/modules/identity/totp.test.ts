import { describe, expect, it } from 'vitest';
import {
  base32Decode,
  base32Encode,
  hotp,
  newTotpSecret,
  otpauthUri,
  totpAt,
  totpStep,
  verifyTotp,
} from './totp.ts';

/** RFC 6238 Appendix B: seeds are the ASCII strings below, codes have 8 digits. */
const SHA1_SEED = Buffer.from('12345678901234567890', 'ascii');
const SHA256_SEED = Buffer.from('12345678901234567890123456789012', 'ascii');
const SHA512_SEED = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii');

const VECTORS: Array<[number, string, string, string]> = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

describe('TOTP (RFC 6238)', () => {
  it.each(VECTORS)('at %i s gives the RFC codes (8 digits)', (seconds, sha1, sha256, sha512) => {
    const at = new Date(seconds * 1000);
    expect(totpAt(SHA1_SEED, at, { digits: 8 })).toBe(sha1);
    expect(totpAt(SHA256_SEED, at, { digits: 8, algorithm: 'sha256' })).toBe(sha256);
    expect(totpAt(SHA512_SEED, at, { digits: 8, algorithm: 'sha512' })).toBe(sha512);
  });

  it('gives the last 6 digits with 6-digit codes', () => {
    for (const [seconds, sha1] of VECTORS) {
      expect(totpAt(SHA1_SEED, new Date(seconds * 1000))).toBe(sha1.slice(2));
    }
  });

  it('matches RFC 4226 Appendix D HOTP values', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583'];
    expected.forEach((code, counter) => expect(hotp(SHA1_SEED, counter)).toBe(code));
  });

  it('accepts ±1 step, refuses 2 steps away', () => {
    const at = new Date(1_700_000_000_000);
    const step = totpStep(at);
    const code = (s: number) => hotp(SHA1_SEED, s);
    expect(verifyTotp(SHA1_SEED, code(step), at, null)).toBe(step);
    expect(verifyTotp(SHA1_SEED, code(step - 1), at, null)).toBe(step - 1);
    expect(verifyTotp(SHA1_SEED, code(step + 1), at, null)).toBe(step + 1);
    expect(verifyTotp(SHA1_SEED, code(step - 2), at, null)).toBeUndefined();
    expect(verifyTotp(SHA1_SEED, code(step + 2), at, null)).toBeUndefined();
  });

  it('never accepts a step at or before the last one used', () => {
    const at = new Date(1_700_000_000_000);
    const step = totpStep(at);
    expect(verifyTotp(SHA1_SEED, hotp(SHA1_SEED, step), at, step)).toBeUndefined();
    expect(verifyTotp(SHA1_SEED, hotp(SHA1_SEED, step - 1), at, step - 1)).toBeUndefined();
    expect(verifyTotp(SHA1_SEED, hotp(SHA1_SEED, step), at, step - 1)).toBe(step);
  });

  it('refuses malformed codes', () => {
    const at = new Date(1_700_000_000_000);
    for (const bad of ['', '12345', '1234567', 'abcdef', '12 34 5'])
      expect(verifyTotp(SHA1_SEED, bad, at, null)).toBeUndefined();
  });
});

describe('base32 and otpauth URIs', () => {
  it('round-trips and matches RFC 4648 vectors', () => {
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    expect(base32Encode(Buffer.from('f'))).toBe('MY');
    expect(base32Decode('MZXW6YTBOI======').toString()).toBe('foobar');
    const s = newTotpSecret();
    expect(s).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Encode(base32Decode(s))).toBe(s);
  });

  it('builds an otpauth URI', () => {
    expect(otpauthUri('MZXW6YTBOI', 'Camille Test')).toBe(
      'otpauth://totp/Carnet:Camille%20Test?secret=MZXW6YTBOI&issuer=Carnet&algorithm=SHA1&digits=6&period=30',
    );
  });
});
