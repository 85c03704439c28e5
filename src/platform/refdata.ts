/**
 * Reference data loading: the versioned nomenclature files under `<project>/refdata/` (see its README.md for
 * origin and licence of each file) and a small RFC 4180 CSV reader for them.
 *
 * Reference data is shipped with the code, so a malformed file is a packaging bug: the reader throws
 * AppError('internal') naming the file and line, and callers load it once at first use.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../errors.ts';

/** Absolute path of the `refdata/` folder at the project root, whatever the current working directory. */
const REFDATA_ROOT = fileURLToPath(new URL('../../refdata/', import.meta.url));

/**
 * Absolute path of a file under `refdata/`. Refuses paths that would leave the folder.
 *
 * @example
 * readCsv(refdataPath('nos', 'tre-a03-classe-document.csv'));
 */
export function refdataPath(...parts: string[]): string {
  const full = resolve(REFDATA_ROOT, join(...parts));
  const rel = relative(REFDATA_ROOT, full);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new AppError(
      'internal',
      `Reference data path escapes refdata/: ${JSON.stringify(parts.join('/'))}`,
    );
  }
  return full;
}

/**
 * Parses CSV text (RFC 4180: comma separator, CRLF or LF line ends, double-quoted fields that may hold
 * commas, newlines and doubled quotes; a leading UTF-8 BOM is ignored) into raw records.
 * A trailing line end does not make an extra record; a completely empty line is skipped.
 * Throws on an unterminated quote or on characters after a closing quote.
 *
 * @example
 * parseCsvRecords('a,"b ""c"""\n1,2\n'); // [['a', 'b "c"'], ['1', '2']]
 */
export function parseCsvRecords(text: string, source = 'CSV'): string[][] {
  const records: string[][] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let record: string[] = [];
  let field = '';
  // True when the current record already has content, even an empty quoted field or a comma.
  let started = false;

  const endRecord = (): void => {
    if (started) {
      record.push(field);
      records.push(record);
    }
    record = [];
    field = '';
    started = false;
  };

  while (i < text.length) {
    const ch = text[i];
    if (ch === '"' && field === '') {
      // Quoted field: read up to the closing quote, "" standing for one quote.
      const openedOn = line;
      started = true;
      i++;
      for (;;) {
        if (i >= text.length)
          throw new AppError('internal', `${source}:${openedOn}: unterminated quoted field`);
        const c = text[i];
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '\n') line++;
        field += c;
        i++;
      }
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new AppError('internal', `${source}:${line}: unexpected character after a closing quote`);
      }
      continue;
    }
    if (ch === ',') {
      record.push(field);
      field = '';
      started = true;
      i++;
    } else if (ch === '\r' || ch === '\n') {
      endRecord();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
    } else {
      if (ch === '"') throw new AppError('internal', `${source}:${line}: quote inside an unquoted field`);
      field += ch;
      started = true;
      i++;
    }
  }
  endRecord();
  return records;
}

/**
 * Parses CSV text whose first record is a header into one object per following record, keyed by the
 * header names. Every record must have as many fields as the header; header names must be unique.
 *
 * @example
 * parseCsv('code,label\n10,Compte rendu\n'); // [{ code: '10', label: 'Compte rendu' }]
 */
export function parseCsv(text: string, source = 'CSV'): Array<Record<string, string>> {
  const [header, ...rows] = parseCsvRecords(text, source);
  if (header === undefined) throw new AppError('internal', `${source}: no header line`);
  const seen = new Set<string>();
  for (const name of header) {
    if (name === '' || seen.has(name)) {
      throw new AppError('internal', `${source}: empty or duplicate header name ${JSON.stringify(name)}`);
    }
    seen.add(name);
  }
  return rows.map((fields, index) => {
    if (fields.length !== header.length) {
      throw new AppError(
        'internal',
        `${source}: record ${index + 2} has ${fields.length} fields, the header has ${header.length}`,
      );
    }
    const row: Record<string, string> = {};
    header.forEach((name, column) => {
      row[name] = fields[column] ?? '';
    });
    return row;
  });
}

/**
 * Reads a UTF-8 CSV file with a header line (see parseCsv).
 *
 * @example
 * const classes = readCsv(refdataPath('nos', 'tre-a03-classe-document.csv'));
 * classes[0]; // { code: '10', label: 'Compte rendu', label_court: 'Compte rendu' }
 */
export function readCsv(path: string): Array<Record<string, string>> {
  return parseCsv(readFileSync(path, 'utf8'), path);
}
