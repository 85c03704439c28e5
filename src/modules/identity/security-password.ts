import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { invalid } from '../../errors.ts';
import { randomToken } from '../../platform/crypto.ts';

/**
 * Password rules (a health record, assurance "substantial" with a second factor): at least 12
 * characters (no composition rules, as NIST SP 800-63B advises), at most 256, not the login nor
 * contained in it (nor the login in it), not one of the most common passwords. Hashed with
 * argon2id (OWASP 2024 minimum: m=19 MiB, t=2, p=1).
 */

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

export const ARGON = { algorithm: 2 as const, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/** Very common passwords of 12+ characters (breach lists), compared case-insensitively. */
const COMMON = new Set([
  '123456789012',
  '1234567890123',
  '12345678901234',
  '123456789123',
  '111111111111',
  '000000000000',
  '123123123123',
  'qwertyuiopas',
  'qwertyuiop123',
  'qwerty123456',
  'azertyuiop12',
  'azertyuiop123',
  'azerty123456',
  'azertyuiopqs',
  'password1234',
  'password12345',
  'password123456',
  'passwordpassword',
  'motdepasse123',
  'motdepasse1234',
  'motdepassemotdepasse',
  'iloveyou1234',
  'abcdefghijkl',
  'abc123abc123',
  'abcd1234abcd',
  'letmein12345',
  'welcome12345',
  'bienvenue123',
  'bienvenue1234',
  'soleil123456',
  'doudou123456',
  'loulou123456',
  'chocolat1234',
  'administrator',
  'changeme1234',
  'trustno1trustno1',
  'football1234',
  'monkey123456',
  'sunshine1234',
  'princess1234',
  'aaaaaaaaaaaa',
  'azertyazerty',
  'qwertyqwerty',
  '1q2w3e4r5t6y',
  '1qaz2wsx3edc',
  'zaq12wsxcde3',
  'q1w2e3r4t5y6',
  'a1b2c3d4e5f6',
]);

/** Throws 400 (field 'password') with the reason when the password breaks a rule. */
export function checkPasswordRules(password: string, login: string | null, field = 'password'): void {
  if ([...password].length < PASSWORD_MIN)
    throw invalid(`The password must have at least ${PASSWORD_MIN} characters`, field);
  if ([...password].length > PASSWORD_MAX)
    throw invalid(`The password must have at most ${PASSWORD_MAX} characters`, field);
  const lower = password.toLowerCase();
  if (login) {
    const l = login.trim().toLowerCase();
    const local = l.split('@')[0] ?? l;
    if (lower === l || lower.includes(l) || (local.length >= 4 && lower.includes(local)) || l.includes(lower))
      throw invalid('The password must not contain the login', field);
  }
  if (COMMON.has(lower) || /^(.)\1+$/.test(password) || /^(.{1,4})\1+$/.test(lower))
    throw invalid('This password is too common or too repetitive: choose another one', field);
}

export async function hashPassword(password: string): Promise<string> {
  return argonHash(password, ARGON);
}

let dummyHash: Promise<string> | undefined;

/**
 * Verifies a password against a stored hash; without a hash (unknown login), against a dummy one,
 * so the time taken does not reveal whether the account exists.
 */
export async function verifyPassword(hash: string | null | undefined, password: string): Promise<boolean> {
  dummyHash ??= argonHash(randomToken(), ARGON);
  const ok = await argonVerify(hash ?? (await dummyHash), password).catch(() => false);
  return ok && hash !== null && hash !== undefined;
}
