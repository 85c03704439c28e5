import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { readCsv } from '../../platform/refdata.ts';
import {
  IDNPS_SYSTEM,
  idnpsFromRpps,
  luhnCheckDigit,
  luhnValid,
  parseProfessionalIdentifier,
} from './rpps.ts';

const vectors = readCsv(
  fileURLToPath(new URL('../../../test/fixtures/vectors/rpps-vectors.csv', import.meta.url)),
);

describe('rpps-vectors.csv', () => {
  it('has the rows we expect to cover', () => {
    expect(vectors.length).toBe(4);
  });

  describe.each(vectors.map((row) => [row.input ?? '', row] as const))('%s', (input, row) => {
    const rpps = input.length === 12 ? input.slice(1) : input;

    it('has the stated length', () => {
      expect(input.length).toBe(Number(row.length));
    });

    it(`Luhn on the 11 digits is ${row.luhn_valid_on_11_digits}`, () => {
      expect(luhnValid(rpps)).toBe(row.luhn_valid_on_11_digits === 'true');
    });

    it(`Luhn check digit of the first 10 is ${row.luhn_check_digit_for_first_10}`, () => {
      expect(luhnCheckDigit(rpps.slice(0, 10))).toBe(Number(row.luhn_check_digit_for_first_10));
    });

    it('is accepted, with a warning exactly when Luhn fails', () => {
      const result = parseProfessionalIdentifier(input);
      expect(result).toMatchObject({ ok: true, rpps });
      if (result.ok) {
        expect(result.warnings).toHaveLength(row.luhn_valid_on_11_digits === 'true' ? 0 : 1);
      }
    });
  });
});

describe('luhnValid', () => {
  it.each([
    ['79927398713', true], // the classic Luhn example
    ['79927398710', false],
    ['0', true],
    ['18', true],
    ['10', false],
    ['', false],
    ['1000517314a', false],
    ['-10005173140', false],
  ])('%j → %s', (digits, valid) => {
    expect(luhnValid(digits)).toBe(valid);
  });

  it('agrees with luhnCheckDigit', () => {
    for (const base of ['1000517314', '1010120123', '7992739871', '1', '99999']) {
      const digit = luhnCheckDigit(base);
      expect(luhnValid(`${base}${digit}`)).toBe(true);
      expect(luhnValid(`${base}${(digit + 1) % 10}`)).toBe(false);
    }
  });

  it('luhnCheckDigit refuses non-digits', () => {
    expect(() => luhnCheckDigit('12a')).toThrow(AppError);
    expect(() => luhnCheckDigit('')).toThrow(AppError);
  });
});

describe('parseProfessionalIdentifier', () => {
  it.each([
    ['10005173140', '10005173140', 0],
    ['810005173140', '10005173140', 0],
    [' 8 1000 517 3140 ', '10005173140', 0],
    ['810101201234', '10101201234', 1],
  ])('%j → RPPS %s with %i warning(s)', (input, rpps, warningCount) => {
    expect(parseProfessionalIdentifier(input)).toEqual({
      ok: true,
      rpps,
      warnings: warningCount === 0 ? [] : [expect.stringContaining('Luhn')],
    });
  });

  it('names the expected check digit in the Luhn warning', () => {
    expect(parseProfessionalIdentifier('10101201234')).toMatchObject({
      warnings: ['RPPS check digit does not verify (Luhn); expected 3'],
    });
  });

  it.each([
    ['', 'Professional identifier is required'],
    ['   ', 'Professional identifier is required'],
    ['1000517314', 'got 10 digits'],
    ['8100051731401', 'got 13 digits'],
    ['010005173140', 'must start with 8'],
    ['310005173140', 'must start with 8'],
    ['1000517314O', 'digits only'],
    ['810-0051-7314', 'digits only'],
  ])('rejects %j', (input, reason) => {
    const result = parseProfessionalIdentifier(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });
});

describe('idnpsFromRpps', () => {
  it('prefixes 8', () => {
    expect(idnpsFromRpps('10102727017')).toBe('810102727017');
    expect(IDNPS_SYSTEM).toBe('urn:oid:1.2.250.1.71.4.2.1');
  });

  it('round-trips through parseProfessionalIdentifier', () => {
    expect(parseProfessionalIdentifier(idnpsFromRpps('10005173140'))).toMatchObject({ rpps: '10005173140' });
  });

  it.each(['1010272701', '810102727017', 'abcdefghijk'])('refuses %j', (bad) => {
    expect(() => idnpsFromRpps(bad)).toThrow(AppError);
  });
});
