import { validateIns } from '../identity/index.ts';

/**
 * One row of the insurer's population file: columns, and the checks a row must pass on its own
 * (the checks needing the database — parent present, already imported — come later, per batch).
 * The columns are documented in docs/population-import.md.
 */

export const COLUMNS = [
  'matricule',
  'oid',
  'birth_family_name',
  'first_names',
  'birth_date',
  'sex',
  'birthplace_code',
  'email',
  'address_line1',
  'address_line2',
  'postal_code',
  'city',
  'card_serial',
  'parent_matricule',
] as const;

export type Column = (typeof COLUMNS)[number];

const REQUIRED: readonly Column[] = [
  'matricule',
  'oid',
  'birth_family_name',
  'first_names',
  'birth_date',
  'sex',
  'birthplace_code',
];

export interface PersonRow {
  line: number;
  matricule: string;
  oid: string;
  family: string;
  given: string;
  birthDate: string;
  sex: 'M' | 'F';
  birthplaceCode: string;
  email: string | null;
  address: { lines: string[]; postalCode: string; city: string } | null;
  cardSerial: string | null;
  parentMatricule: string | null;
  warnings: string[];
}

export type RowCheck = { ok: true; row: PersonRow } | { ok: false; reason: string; matricule: string };

/** Where each column sits in the file, from its header row. Throws when a required column is missing. */
export function headerIndex(fields: readonly string[]): { index: Record<Column, number>; unknown: string[] } {
  const names = fields.map((f) => f.trim().toLowerCase());
  const index = {} as Record<Column, number>;
  for (const c of COLUMNS) index[c] = names.indexOf(c);
  const missing = COLUMNS.filter((c) => index[c] < 0);
  if (missing.length > 0) {
    throw new Error(`the header row lacks the column(s): ${missing.join(', ')}`);
  }
  return { index, unknown: names.filter((n) => !(COLUMNS as readonly string[]).includes(n)) };
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const BIRTHPLACE = /^(?:[0-9]{5}|2[AB][0-9]{3})$/;
const EMAIL = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/;
const NAME = /^[\p{L}\p{M}' .-]+$/u;
const CARD = /^[0-9A-Za-z]{4,20}$/;
const POSTAL = /^[0-9A-Za-z -]{2,10}$/;
// eslint-disable-next-line no-control-regex -- control characters are what we refuse
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The date (YYYY-MM-DD) of the 18th birthday, as identity's majorityAt counts it (29 February:
 * 1 March in common years); a person is a minor while it is after today (Paris).
 */
export function eighteenthBirthday(birthDate: string): string {
  const year = Number(birthDate.slice(0, 4)) + 18;
  const monthDay = birthDate.slice(5);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return monthDay === '02-29' && !leap ? `${year}-03-01` : `${year}-${monthDay}`;
}

/** Whether `text` (YYYY-MM-DD) is a real calendar date. */
function realDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

function name(value: string, label: string): string | undefined {
  if (value.length > 100) return `${label} is longer than 100 characters`;
  if (!NAME.test(value)) return `${label} has characters other than letters, spaces, hyphens and apostrophes`;
  return undefined;
}

/**
 * Checks one record against the header; `today` is YYYY-MM-DD (Paris) and `now` the import's instant.
 * @example checkRow(fields, index, 12, { testOids: [], today: '2026-11-22' })
 */
export function checkRow(
  fields: readonly string[],
  header: { index: Record<Column, number>; width: number },
  line: number,
  opts: { testOids: readonly string[]; today: string },
): RowCheck {
  const get = (c: Column): string => (fields[header.index[c]] ?? '').trim();
  const matricule = get('matricule');
  const fail = (reason: string): RowCheck => ({ ok: false, reason, matricule });
  if (fields.length !== header.width) {
    return fail(`expected ${header.width} fields, found ${fields.length}`);
  }
  for (const c of REQUIRED) if (get(c) === '') return fail(`${c} is required`);
  for (const c of COLUMNS) if (CONTROL.test(get(c))) return fail(`${c} contains control characters`);

  const ins = validateIns({ matricule, oid: get('oid') }, { testOids: opts.testOids });
  if (!ins.ok) return fail(ins.reason);

  const family = get('birth_family_name');
  const given = get('first_names').split(/\s+/)[0] ?? '';
  const badName = name(family, 'birth_family_name') ?? name(get('first_names'), 'first_names');
  if (badName) return fail(badName);

  const birthDate = get('birth_date');
  if (!realDate(birthDate)) return fail(`birth_date "${birthDate}" is not a real date (YYYY-MM-DD)`);
  if (birthDate > opts.today) return fail(`birth_date ${birthDate} is in the future`);
  if (birthDate < '1880-01-01') return fail(`birth_date ${birthDate} is before 1880`);

  const sex = get('sex').toUpperCase();
  if (sex !== 'M' && sex !== 'F') return fail(`sex must be M or F (got "${get('sex')}")`);

  const birthplaceCode = get('birthplace_code').toUpperCase();
  if (!BIRTHPLACE.test(birthplaceCode)) {
    return fail(`birthplace_code "${get('birthplace_code')}" is not an INSEE code (5 characters)`);
  }

  const emailText = get('email').toLowerCase();
  if (emailText !== '' && (emailText.length > 254 || !EMAIL.test(emailText))) {
    return fail(`email "${get('email')}" is not an e-mail address`);
  }

  const line1 = get('address_line1');
  const line2 = get('address_line2');
  const postalCode = get('postal_code');
  const city = get('city');
  const anyAddress = line1 !== '' || line2 !== '' || postalCode !== '' || city !== '';
  if (anyAddress && (line1 === '' || postalCode === '' || city === '')) {
    return fail('a postal address needs address_line1, postal_code and city');
  }
  if (anyAddress && !POSTAL.test(postalCode)) return fail(`postal_code "${postalCode}" is not a postal code`);
  if ([line1, line2, city].some((v) => v.length > 200))
    return fail('an address field is longer than 200 characters');

  const parentText = get('parent_matricule');
  const parentMatricule = parentText === '' ? null : parentText.replace(/\s+/g, '').toUpperCase();
  const minor = eighteenthBirthday(birthDate) > opts.today;
  if (parentMatricule !== null) {
    if (!minor) return fail('parent_matricule is only for minors; this person is 18 or older');
    if (parentMatricule === ins.matricule) return fail('parent_matricule is the person themself');
  } else {
    if (minor) return fail('a minor needs parent_matricule (the declaring parent)');
    if (emailText === '' && !anyAddress)
      return fail('an adult needs an email or a postal address for the notice');
  }

  const cardSerial = get('card_serial');
  if (cardSerial === '' && parentMatricule === null) return fail('card_serial is required for an adult');
  if (cardSerial !== '' && !CARD.test(cardSerial))
    return fail(`card_serial "${cardSerial}" is not a card serial`);

  return {
    ok: true,
    row: {
      line,
      matricule: ins.matricule,
      oid: ins.oid,
      family,
      given,
      birthDate,
      sex,
      birthplaceCode,
      email: emailText === '' ? null : emailText,
      address: anyAddress ? { lines: [line1, line2].filter((l) => l !== ''), postalCode, city } : null,
      cardSerial: cardSerial === '' ? null : cardSerial,
      parentMatricule,
      warnings: ins.warnings,
    },
  };
}
