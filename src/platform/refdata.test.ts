import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { parseCsv, parseCsvRecords, readCsv, refdataPath } from './refdata.ts';

describe('parseCsvRecords', () => {
  it.each([
    [
      'plain fields',
      'a,b,c\n1,2,3\n',
      [
        ['a', 'b', 'c'],
        ['1', '2', '3'],
      ],
    ],
    [
      'no trailing line end',
      'a,b\n1,2',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'CRLF line ends',
      'a,b\r\n1,2\r\n',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'lone CR line ends',
      'a,b\r1,2\r',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    ['quoted comma', 'x\n"Certificat, déclaration"\n', [['x'], ['Certificat, déclaration']]],
    ['doubled quotes', 'x\n"say ""hi"""\n', [['x'], ['say "hi"']]],
    [
      'embedded LF and CRLF',
      'x,y\n"l1\nl2","a\r\nb"\n',
      [
        ['x', 'y'],
        ['l1\nl2', 'a\r\nb'],
      ],
    ],
    [
      'empty fields',
      'a,,c\n,,\n',
      [
        ['a', '', 'c'],
        ['', '', ''],
      ],
    ],
    [
      'empty quoted field',
      'a,b\n"",x\n',
      [
        ['a', 'b'],
        ['', 'x'],
      ],
    ],
    [
      'leading BOM',
      '\uFEFFcode,label\n1,x\n',
      [
        ['code', 'label'],
        ['1', 'x'],
      ],
    ],
    ['blank lines skipped', 'a\n\n1\n\n', [['a'], ['1']]],
    ['quoted field at end of text', 'a,"b"', [['a', 'b']]],
    ['spaces kept as data', ' a , b \n', [[' a ', ' b ']]],
  ])('%s', (_name, text, expected) => {
    expect(parseCsvRecords(text)).toEqual(expected);
  });

  it.each([
    ['unterminated quote', 'a,"b\n1,2\n', /unterminated quoted field/],
    ['text after closing quote', 'a,"b"c\n', /after a closing quote/],
    ['quote inside unquoted field', 'a,b"c\n', /quote inside an unquoted field/],
  ])('rejects %s', (_name, text, message) => {
    expect(() => parseCsvRecords(text, 'f.csv')).toThrow(message);
  });

  it('names the source and line of an error', () => {
    expect(() => parseCsvRecords('a\nb\n"c', 'x.csv')).toThrow('x.csv:3: unterminated quoted field');
  });

  it('returns no records for empty text', () => {
    expect(parseCsvRecords('')).toEqual([]);
    expect(parseCsvRecords('\uFEFF')).toEqual([]);
  });
});

describe('parseCsv', () => {
  it('keys each record by the header', () => {
    expect(parseCsv('code,label\n10,Compte rendu\n52,"Certificat, déclaration"\n')).toEqual([
      { code: '10', label: 'Compte rendu' },
      { code: '52', label: 'Certificat, déclaration' },
    ]);
  });

  it('returns no rows for a header only', () => {
    expect(parseCsv('a,b\n')).toEqual([]);
  });

  it.each([
    ['missing header', '', /no header line/],
    ['duplicate header', 'a,a\n1,2\n', /duplicate header/],
    ['empty header name', 'a,\n1,2\n', /duplicate header/],
    ['too few fields', 'a,b\n1\n', /record 2 has 1 fields, the header has 2/],
    ['too many fields', 'a,b\n1,2\n1,2,3\n', /record 3 has 3 fields/],
  ])('rejects %s', (_name, text, message) => {
    expect(() => parseCsv(text)).toThrow(message);
  });

  it('throws AppError with code internal', () => {
    try {
      parseCsv('a,b\n1\n');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('internal');
    }
  });
});

describe('readCsv', () => {
  it('reads a file from disk, BOM and CRLF included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'carnet-refdata-'));
    const file = join(dir, 'x.csv');
    writeFileSync(file, '\uFEFFcode,label\r\n"A,1","é ""q"""\r\n');
    expect(readCsv(file)).toEqual([{ code: 'A,1', label: 'é "q"' }]);
  });

  it('reads the shipped TRE_A03 nomenclature', () => {
    const rows = readCsv(refdataPath('nos', 'tre-a03-classe-document.csv'));
    expect(rows).toHaveLength(11);
    expect(rows.find((row) => row.code === '52')?.label).toBe('Certificat, déclaration');
  });
});

describe('refdataPath', () => {
  const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

  it('resolves under <project>/refdata whatever the cwd', () => {
    const before = process.cwd();
    try {
      process.chdir(tmpdir());
      expect(refdataPath('nos', 'x.csv')).toBe(join(projectRoot, 'refdata', 'nos', 'x.csv'));
    } finally {
      process.chdir(before);
    }
  });

  it.each([['..', 'package.json'], ['nos/../../src'], ['/etc/passwd']])(
    'refuses to escape: %s',
    (...parts) => {
      expect(() => refdataPath(...parts)).toThrow(/escapes refdata/);
    },
  );
});
