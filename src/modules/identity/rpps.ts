/**
 * Health professional identifiers: the RPPS number (11 digits, Répertoire Partagé des Professionnels de
 * Santé) and its national form IDNPS = '8' + RPPS (12 characters), which FHIR and CDA documents carry under
 * the system `urn:oid:1.2.250.1.71.4.2.1`. Pure rules, no I/O.
 *
 * The last RPPS digit is a Luhn check digit for real numbers, but the ANS guides' fictitious examples
 * (e.g. 810101201234) do not verify: a Luhn failure is therefore a warning, never a rejection.
 * Other IDNPS forms (0 + ADELI, 3 + FINESS/…) are not RPPS numbers and are refused here.
 */
import { AppError } from '../../errors.ts';

/** OID of the national professional identifier (IDNPS) in FHIR `Identifier.system` form. */
export const IDNPS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.1';
/** The bare OID of IDNPS. */
export const IDNPS_OID = '1.2.250.1.71.4.2.1';
/** Prefix that turns an RPPS number into an IDNPS. */
export const IDNPS_RPPS_PREFIX = '8';

export type ProfessionalIdentifierResult =
  { ok: true; rpps: string; warnings: string[] } | { ok: false; reason: string };

/**
 * Whether a string of digits passes the Luhn (mod 10) check, its last digit being the check digit.
 * Returns false for an empty string or any non-digit.
 *
 * @example
 * luhnValid('10005173140'); // true
 * luhnValid('10101201234'); // false
 */
export function luhnValid(digits: string): boolean {
  if (!/^[0-9]+$/.test(digits)) return false;
  return luhnSum(digits, false) % 10 === 0;
}

/**
 * The Luhn check digit to append to a string of digits.
 *
 * @example
 * luhnCheckDigit('1000517314'); // 0
 */
export function luhnCheckDigit(digits: string): number {
  if (!/^[0-9]+$/.test(digits)) {
    throw new AppError('invalid_input', `Luhn check digit needs digits, got ${JSON.stringify(digits)}`);
  }
  return (10 - (luhnSum(digits, true) % 10)) % 10;
}

/** Sum of digits from the right, doubling every second one (starting with the rightmost when asked). */
function luhnSum(digits: string, doubleRightmost: boolean): number {
  let sum = 0;
  let double = doubleRightmost;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum;
}

/**
 * Reads a professional identifier given either as an RPPS number (11 digits) or as an IDNPS ('8' + RPPS,
 * 12 characters); spaces are ignored. Returns the RPPS number; a Luhn failure only adds a warning.
 *
 * @example
 * parseProfessionalIdentifier('810102727017');
 * // { ok: true, rpps: '10102727017', warnings: ['RPPS check digit does not verify (Luhn); …'] }
 * parseProfessionalIdentifier('10005173140'); // { ok: true, rpps: '10005173140', warnings: [] }
 */
export function parseProfessionalIdentifier(value: string): ProfessionalIdentifierResult {
  const compact = value.replace(/\s+/g, '');
  if (compact === '') return { ok: false, reason: 'Professional identifier is required' };
  if (!/^[0-9]+$/.test(compact)) {
    return { ok: false, reason: 'Professional identifier must contain digits only (RPPS or IDNPS)' };
  }
  let rpps: string;
  if (compact.length === 11) {
    rpps = compact;
  } else if (compact.length === 12) {
    if (!compact.startsWith(IDNPS_RPPS_PREFIX)) {
      return {
        ok: false,
        reason: `A 12-character IDNPS must start with ${IDNPS_RPPS_PREFIX} followed by the RPPS number`,
      };
    }
    rpps = compact.slice(1);
  } else {
    return {
      ok: false,
      reason: `Professional identifier must be an RPPS number (11 digits) or an IDNPS (12), got ${compact.length} digits`,
    };
  }
  const warnings = luhnValid(rpps)
    ? []
    : [`RPPS check digit does not verify (Luhn); expected ${luhnCheckDigit(rpps.slice(0, 10))}`];
  return { ok: true, rpps, warnings };
}

/**
 * The IDNPS ('8' + RPPS) carried in FHIR/CDA identifiers under IDNPS_SYSTEM.
 *
 * @example
 * idnpsFromRpps('10102727017'); // '810102727017'
 */
export function idnpsFromRpps(rpps: string): string {
  if (!/^[0-9]{11}$/.test(rpps)) {
    throw new AppError('invalid_input', `An RPPS number has 11 digits, got ${JSON.stringify(rpps)}`, 'rpps');
  }
  return IDNPS_RPPS_PREFIX + rpps;
}
