import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { readCsv } from '../../platform/refdata.ts';
import { INS_OIDS, insKey, insSystem, normalizeMatricule, parseInsSystem, validateIns } from './ins.ts';

const vectors = readCsv(
  fileURLToPath(new URL('../../../test/fixtures/vectors/nir-ins-vectors.csv', import.meta.url)),
);
const strict = { testOids: [] as string[] };
const lenient = { testOids: [INS_OIDS.test, INS_OIDS.demo] };

describe('nir-ins-vectors.csv', () => {
  it('has the rows we expect to cover', () => {
    expect(vectors.length).toBe(13);
  });

  describe.each(vectors.map((row) => [row.input ?? '', row] as const))('%s', (input, row) => {
    const normalized = row.normalized ?? '';

    it('normalises like the vector', () => {
      expect(normalizeMatricule(input)).toBe(normalized);
      expect(normalized.length).toBe(Number(row.length));
    });

    if (row.format_status === 'ok') {
      it(`computes key ${row.computed_key}`, () => {
        expect(insKey(normalized.slice(0, 13))).toBe(Number(row.computed_key));
      });
    }

    if (row.format_status !== 'ok') {
      it(`fails on the matricule (${row.format_status}) under every OID`, () => {
        for (const [oid, opts] of [
          [INS_OIDS.nir, strict],
          [INS_OIDS.test, lenient],
        ] as const) {
          const result = validateIns({ matricule: input, oid }, opts);
          expect(result).toMatchObject({ ok: false, field: 'matricule' });
        }
      });
    } else if (row.key_matches === 'true') {
      it('is valid under the NIR OID', () => {
        const result = validateIns({ matricule: input, oid: INS_OIDS.nir }, strict);
        expect(result).toMatchObject({ ok: true, matricule: normalized, oid: INS_OIDS.nir });
        if (result.ok) expect(result.warnings.filter((w) => w.includes('key'))).toEqual([]);
      });
    } else {
      it('fails under the NIR OID with the expected key', () => {
        expect(validateIns({ matricule: input, oid: INS_OIDS.nir }, strict)).toEqual({
          ok: false,
          reason: `INS key is wrong (expected ${row.computed_key})`,
          field: 'matricule',
        });
      });

      it('passes under a configured test OID with a key warning', () => {
        const result = validateIns({ matricule: input, oid: INS_OIDS.test }, lenient);
        expect(result.ok).toBe(true);
        if (result.ok) {
          expect(result.matricule).toBe(normalized);
          expect(result.warnings).toContainEqual(
            expect.stringContaining(`INS key is wrong (expected ${row.computed_key})`),
          );
        }
      });
    }
  });
});

describe('insKey', () => {
  it.each([
    ['1370476243484', 15],
    ['2530719073004', 43], // what 2A stands for
    ['253072A073004', 43],
    ['2530718073004', 70], // what 2B stands for
    ['253072B073004', 70],
    ['253072b073004', 70], // lower case is normalised
    ['2950199122956', 97], // multiple of 97: key is 97, never 00
    ['2 95 01 12 345 678', 11],
  ])('%s → %i', (first13, key) => {
    expect(insKey(first13)).toBe(key);
  });

  it.each(['', '137047624348', '13704762434841', '1370476243X84', '12A0476243484', '253072C073004'])(
    'rejects %j',
    (bad) => {
      expect(() => insKey(bad)).toThrow(AppError);
    },
  );
});

describe('validateIns', () => {
  const nir = (matricule: string, oid: string = INS_OIDS.nir, opts = strict) =>
    validateIns({ matricule, oid }, opts);

  it.each([
    ['', 'INS matricule is required'],
    ['   ', 'INS matricule is required'],
    ['27903512151898', 'INS matricule must be 15 characters (got 14)'],
    ['579035121518989', 'INS matricule must start with 1, 2, 3, 4, 7 or 8 (sex digit)'],
    ['079035121518989', 'INS matricule must start with 1, 2, 3, 4, 7 or 8 (sex digit)'],
    ['27903X121518989', 'INS matricule has an invalid department "X1" (two digits, 2A or 2B)'],
    ['2790351215189AB', 'INS matricule must be digits only (except 2A/2B as department)'],
    ['2790-5121518989', 'INS matricule must be digits only (except 2A/2B as department)'],
  ])('rejects %j: %s', (matricule, reason) => {
    expect(nir(matricule)).toEqual({ ok: false, reason, field: 'matricule' });
  });

  it('accepts every allowed sex digit when the key is right', () => {
    for (const sex of ['1', '2', '3', '4', '7', '8']) {
      const first13 = `${sex}790351215189`;
      const key = String(insKey(first13)).padStart(2, '0');
      expect(nir(first13 + key)).toMatchObject({ ok: true, warnings: [] });
    }
  });

  it('normalises spaces and case before checking', () => {
    expect(nir(' 2 53 07 2a 073 004 43 ')).toMatchObject({ ok: true, matricule: '253072A07300443' });
  });

  it.each([
    ['01', false],
    ['12', false],
    ['20', false],
    ['42', false],
    ['50', false],
    ['99', false],
    ['00', true],
    ['13', true],
    ['19', true],
    ['45', true],
  ])('month %s → warning: %s', (month, warns) => {
    const first13 = `279${month}51215189`;
    const matricule = first13 + String(insKey(first13)).padStart(2, '0');
    const result = nir(matricule);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.warnings.some((w) => w.includes('birth month'))).toBe(warns);
  });

  it('pads the expected key to two digits in the reason', () => {
    expect(insKey('2790351215172')).toBe(9);
    expect(nir('279035121517298')).toEqual({
      ok: false,
      reason: 'INS key is wrong (expected 09)',
      field: 'matricule',
    });
    expect(nir('279035121517209')).toMatchObject({ ok: true });
  });

  it('rejects an unknown OID on the oid field', () => {
    expect(nir('279035121518989', '1.2.250.1.71.4.2.1')).toEqual({
      ok: false,
      reason: expect.stringContaining('Unknown INS OID "1.2.250.1.71.4.2.1"'),
      field: 'oid',
    });
  });

  it('checks the matricule before the OID', () => {
    expect(nir('1', 'nonsense')).toMatchObject({ ok: false, field: 'matricule' });
  });

  it.each([INS_OIDS.nir, INS_OIDS.nia, INS_OIDS.test, INS_OIDS.demo])('accepts OID %s', (oid) => {
    expect(nir('279035121518989', oid)).toMatchObject({ ok: true, oid });
  });

  it('accepts the OID in urn:oid form and returns it bare', () => {
    expect(nir('279035121518989', 'urn:oid:1.2.250.1.213.1.4.8')).toMatchObject({
      ok: true,
      oid: INS_OIDS.nir,
    });
  });

  it('fails a wrong key under test/demo OIDs when they are not configured as test OIDs', () => {
    expect(nir('224027511583555', INS_OIDS.test, strict)).toMatchObject({
      ok: false,
      reason: 'INS key is wrong (expected 12)',
    });
  });

  it('keeps the key mandatory under the NIR OID when test OIDs are configured', () => {
    expect(nir('224027511583555', INS_OIDS.nir, lenient)).toMatchObject({ ok: false });
  });

  it('treats an extra configured test OID as known', () => {
    const local = '1.2.250.1.999.1';
    expect(nir('224027511583555', local, { testOids: [local] })).toMatchObject({
      ok: true,
      oid: local,
      warnings: [expect.stringContaining('configured test OID')],
    });
  });

  it('reports both the month and the key for the FR Core example under a test OID', () => {
    const result = nir('123456789012244', INS_OIDS.test, lenient);
    expect(result).toMatchObject({ ok: true });
    if (result.ok) expect(result.warnings).toHaveLength(2);
  });
});

describe('insSystem / parseInsSystem', () => {
  it.each(Object.values(INS_OIDS))('round-trips %s', (oid) => {
    expect(insSystem(oid)).toBe(`urn:oid:${oid}`);
    expect(parseInsSystem(insSystem(oid))).toBe(oid);
  });

  it.each([
    'urn:oid:1.2.250.1.71.4.2.1',
    '1.2.250.1.213.1.4.8',
    'urn:oid:',
    'urn:oid:1.2.250.1.213.1.4.8.99999.201',
    'http://loinc.org',
    'urn:oid:1.2.250.1.213.1.4.08',
  ])('returns undefined for %j', (system) => {
    expect(parseInsSystem(system)).toBeUndefined();
  });

  it('accepts extra OIDs when given', () => {
    expect(parseInsSystem('urn:oid:1.2.250.1.999.1', ['1.2.250.1.999.1'])).toBe('1.2.250.1.999.1');
  });

  it('tolerates surrounding spaces and URN case', () => {
    expect(parseInsSystem(' URN:OID:1.2.250.1.213.1.4.9 ')).toBe(INS_OIDS.nia);
  });
});
