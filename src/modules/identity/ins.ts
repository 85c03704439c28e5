/**
 * INS (Identifiant National de Santé): a 15-character matricule (the NIR, or the NIA for people awaiting a
 * NIR) qualified by the OID of its assigning authority. Pure rules, no I/O.
 *
 * Matricule layout: sex (1) · year (2) · month (2) · department (2: digits, or 2A/2B for Corsica) ·
 * commune (3) · order number (3) · key (2). Key = 97 − (first 13 digits mod 97), with 2A→19 and 2B→18.
 *
 * Leniency, on purpose (official examples break the rules, see test/fixtures/vectors):
 * - Structure (length, sex digit, digits, department shape) is enforced: it is what a typo breaks.
 * - The month is only *warned* about when outside the ranges INSEE is known to allocate (01–12 real months,
 *   20–42 and 50–99 pseudo-months for incomplete civil records or provisional registrations): sources
 *   disagree on the exact pseudo-month ranges and the FR Core example INS uses month 45.
 * - A wrong key fails, except under an OID the operator configured as a test OID, where it is a warning.
 * - The year, the department number and the commune/order numbers are not checked against any table.
 */
import { AppError } from '../../errors.ts';

/** Assigning-authority OIDs of the INS (ANS "Référentiel INS"). */
export const INS_OIDS = {
  /** INS-NIR, the NIR as registered by INSEE. */
  nir: '1.2.250.1.213.1.4.8',
  /** INS-NIA, identification number awaiting a NIR. */
  nia: '1.2.250.1.213.1.4.9',
  /** INS-NIR of test identities. */
  test: '1.2.250.1.213.1.4.10',
  /** INS-NIR of demonstration identities. */
  demo: '1.2.250.1.213.1.4.11',
} as const;

export type InsOid = (typeof INS_OIDS)[keyof typeof INS_OIDS];

const KNOWN_OIDS: readonly string[] = Object.values(INS_OIDS);

export type InsValidationResult =
  | { ok: true; matricule: string; oid: string; warnings: string[] }
  | { ok: false; reason: string; field: 'matricule' | 'oid' };

/** Sex digit: 1 man, 2 woman, 3/4 foreign-born in course of registration, 7/8 provisional number. */
const SEX_DIGITS = '123478';
const STRUCTURE = /^[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}$/;
const FIRST13 = /^[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{6}$/;

/**
 * Canonical form of a typed matricule: whitespace removed, letters upper-cased.
 *
 * @example
 * normalizeMatricule('2 95 10 99 126 111 93'); // '295109912611193'
 */
export function normalizeMatricule(raw: string): string {
  return raw.replace(/\s+/g, '').toUpperCase();
}

/**
 * The two-digit control key of the first 13 characters of a matricule, as a number (1–97).
 * Corsican departments are replaced before the modulo (2A→19, 2B→18). Exact integer arithmetic (BigInt).
 * Throws AppError('invalid_input') when the input is not 13 digits (2A/2B allowed in the department position).
 *
 * @example
 * insKey('1370476243484'); // 15
 * insKey('253072B073004'); // 70
 */
export function insKey(first13: string): number {
  const value = normalizeMatricule(first13);
  if (!FIRST13.test(value)) {
    throw new AppError(
      'invalid_input',
      `INS key needs 13 digits (2A/2B allowed as department), got ${JSON.stringify(first13)}`,
      'matricule',
    );
  }
  const department = value.slice(5, 7);
  const digits =
    department === '2A'
      ? `${value.slice(0, 5)}19${value.slice(7)}`
      : department === '2B'
        ? `${value.slice(0, 5)}18${value.slice(7)}`
        : value;
  return 97 - Number(BigInt(digits) % 97n);
}

/** Why a normalised matricule is structurally wrong, or undefined when its structure is fine. */
function structureProblem(matricule: string): string | undefined {
  if (matricule === '') return 'INS matricule is required';
  if (matricule.length !== 15) return `INS matricule must be 15 characters (got ${matricule.length})`;
  if (!SEX_DIGITS.includes(matricule[0] ?? '')) {
    return 'INS matricule must start with 1, 2, 3, 4, 7 or 8 (sex digit)';
  }
  const department = matricule.slice(5, 7);
  if (!/^(?:[0-9]{2}|2A|2B)$/.test(department)) {
    return `INS matricule has an invalid department "${department}" (two digits, 2A or 2B)`;
  }
  if (!STRUCTURE.test(matricule)) {
    return 'INS matricule must be digits only (except 2A/2B as department)';
  }
  return undefined;
}

function isAllocatedMonth(month: number): boolean {
  return (month >= 1 && month <= 12) || (month >= 20 && month <= 42) || (month >= 50 && month <= 99);
}

/** Accepts an OID written bare or as `urn:oid:<oid>`. */
function normalizeOid(raw: string): string {
  const trimmed = raw.trim();
  return trimmed.toLowerCase().startsWith('urn:oid:') ? trimmed.slice('urn:oid:'.length) : trimmed;
}

/**
 * Validates an INS (matricule + OID). See the module comment for what is enforced and what only warns.
 * `opts.testOids` lists the OIDs under which a wrong key is accepted with a warning; they are also
 * accepted as INS OIDs even when not among INS_OIDS.
 *
 * @example
 * validateIns({ matricule: '2 79 03 51 215 189 89', oid: INS_OIDS.test }, { testOids: [INS_OIDS.test] });
 * // { ok: true, matricule: '279035121518989', oid: '1.2.250.1.213.1.4.10', warnings: [] }
 * validateIns({ matricule: '223042545611404', oid: INS_OIDS.nir }, { testOids: [] });
 * // { ok: false, reason: 'INS key is wrong (expected 82)', field: 'matricule' }
 */
export function validateIns(
  input: { matricule: string; oid: string },
  opts: { testOids: readonly string[] },
): InsValidationResult {
  const matricule = normalizeMatricule(input.matricule);
  const problem = structureProblem(matricule);
  if (problem !== undefined) return { ok: false, reason: problem, field: 'matricule' };

  const oid = normalizeOid(input.oid);
  const isTestOid = opts.testOids.includes(oid);
  if (!KNOWN_OIDS.includes(oid) && !isTestOid) {
    return {
      ok: false,
      reason: `Unknown INS OID "${oid}" (expected ${INS_OIDS.nir} for a NIR or ${INS_OIDS.nia} for a NIA)`,
      field: 'oid',
    };
  }

  const warnings: string[] = [];
  const month = matricule.slice(3, 5);
  if (!isAllocatedMonth(Number(month))) {
    warnings.push(`INS matricule has an unusual birth month "${month}"`);
  }

  const expected = insKey(matricule.slice(0, 13));
  const expectedText = String(expected).padStart(2, '0');
  if (matricule.slice(13) !== expectedText) {
    const reason = `INS key is wrong (expected ${expectedText})`;
    if (!isTestOid) return { ok: false, reason, field: 'matricule' };
    warnings.push(`${reason}; accepted because ${oid} is a configured test OID`);
  }
  return { ok: true, matricule, oid, warnings };
}

/**
 * The FHIR `Identifier.system` for an INS OID.
 *
 * @example
 * insSystem(INS_OIDS.nir); // 'urn:oid:1.2.250.1.213.1.4.8'
 */
export function insSystem(oid: string): string {
  return `urn:oid:${oid}`;
}

/**
 * The INS OID carried by a FHIR `Identifier.system` (`urn:oid:<oid>`), or undefined when the system is
 * not one of the INS OIDs (nor one of `extraOids`, e.g. the configured test OIDs).
 *
 * @example
 * parseInsSystem('urn:oid:1.2.250.1.213.1.4.8'); // '1.2.250.1.213.1.4.8'
 * parseInsSystem('urn:oid:1.2.250.1.71.4.2.1'); // undefined (that is the RPPS system)
 */
export function parseInsSystem(system: string, extraOids: readonly string[] = []): string | undefined {
  const match = /^urn:oid:([0-2](?:\.(?:0|[1-9][0-9]*))+)$/i.exec(system.trim());
  const oid = match?.[1];
  if (oid === undefined) return undefined;
  return KNOWN_OIDS.includes(oid) || extraOids.includes(oid) ? oid : undefined;
}
