/**
 * A small streaming CSV reader (RFC 4180: `,` separator, fields optionally in double quotes, `""`
 * for a quote inside quotes, CRLF or LF line ends, line breaks allowed inside quotes). Fed chunk
 * by chunk; holds only the current line, so memory does not grow with the file.
 *
 * A broken record (a stray quote, text after a closing quote, a quote never closed) is reported
 * with its line number and reading goes on with the next line. A quoted field may span at most
 * MAX_CONTINUATION lines: past that — or when the record it makes is broken or of the wrong width —
 * the quote is taken as never closed, and the lines it swallowed are read again as records of
 * their own.
 */

export type CsvRecord =
  | { readonly line: number; readonly fields: string[]; readonly error?: undefined }
  | { readonly line: number; readonly fields?: undefined; readonly error: string };

const MAX_CONTINUATION = 4;
const MAX_RECORD_CHARS = 16_384;

interface Open {
  line: number;
  fields: string[];
  field: string;
  raw: Array<{ line: number; text: string }>;
}

type Parsed =
  | { kind: 'done'; fields: string[] }
  | { kind: 'error'; error: string }
  | { kind: 'open'; fields: string[]; field: string };

/** Scans `text` from `start`, continuing an open quoted field when `inQuotes`. */
function scan(text: string, fields: string[], field: string, inQuotes: boolean): Parsed {
  let i = 0;
  let current = field;
  let quoted = inQuotes;
  // When continuing, we are inside quotes; otherwise at the start of a field.
  let atFieldStart = !inQuotes;
  while (i <= text.length) {
    if (quoted) {
      const q = text.indexOf('"', i);
      if (q < 0) {
        current += text.slice(i);
        return { kind: 'open', fields, field: current };
      }
      current += text.slice(i, q);
      if (text[q + 1] === '"') {
        current += '"';
        i = q + 2;
        continue;
      }
      // Closing quote: a separator or the end of the line must follow.
      i = q + 1;
      if (i === text.length) {
        fields.push(current);
        return { kind: 'done', fields };
      }
      if (text[i] !== ',') {
        return { kind: 'error', error: `text after a closing quote (field ${fields.length + 1})` };
      }
      fields.push(current);
      current = '';
      i++;
      quoted = false;
      atFieldStart = true;
      if (i === text.length) {
        fields.push('');
        return { kind: 'done', fields };
      }
      continue;
    }
    if (atFieldStart && text[i] === '"') {
      quoted = true;
      atFieldStart = false;
      i++;
      continue;
    }
    const comma = text.indexOf(',', i);
    const end = comma < 0 ? text.length : comma;
    const value = text.slice(i, end);
    if (value.includes('"')) {
      return { kind: 'error', error: `stray quote in an unquoted field (field ${fields.length + 1})` };
    }
    fields.push(value);
    if (comma < 0) return { kind: 'done', fields };
    i = comma + 1;
    atFieldStart = true;
    if (i === text.length) {
      fields.push('');
      return { kind: 'done', fields };
    }
  }
  return { kind: 'done', fields };
}

export class CsvReader {
  private rest = '';
  private lineNo = 0;
  private open: Open | undefined;
  private first = true;
  /** The number of fields a record has (from the header): a multi-line record of another width is broken. */
  width: number | undefined;

  /** Feeds a chunk; calls `emit` for each complete record, in order. */
  push(chunk: string, emit: (record: CsvRecord) => void): void {
    let text = this.rest + chunk;
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.line(text.slice(start, end), emit);
      start = nl + 1;
    }
    this.rest = text.slice(start);
  }

  /** The end of input: the last line without a line break, an unclosed quote. */
  end(emit: (record: CsvRecord) => void): void {
    if (this.rest !== '') {
      const last = this.rest.endsWith('\r') ? this.rest.slice(0, -1) : this.rest;
      this.rest = '';
      this.line(last, emit);
    }
    if (this.open) this.abandon(emit);
  }

  private line(text: string, emit: (record: CsvRecord) => void): void {
    this.lineNo++;
    this.feed({ line: this.lineNo, text }, emit);
  }

  private feed(l: { line: number; text: string }, emit: (record: CsvRecord) => void): void {
    const open = this.open;
    if (open) {
      open.raw.push(l);
      const r = scan(l.text, open.fields, `${open.field}\n`, true);
      if (r.kind === 'done' && (this.width === undefined || r.fields.length === this.width)) {
        this.open = undefined;
        emit({ line: open.line, fields: r.fields });
      } else if (r.kind !== 'open') {
        // The quote that spanned lines was most likely the mistake: read the lines it took again.
        this.abandon(emit);
      } else {
        open.fields = r.fields;
        open.field = r.field;
        if (open.raw.length > MAX_CONTINUATION || open.field.length > MAX_RECORD_CHARS) this.abandon(emit);
      }
      return;
    }
    // Fast path: no quote on the line.
    if (!l.text.includes('"')) {
      if (l.text === '') return;
      emit({ line: l.line, fields: l.text.split(',') });
      return;
    }
    const r = scan(l.text, [], '', false);
    if (r.kind === 'done') emit({ line: l.line, fields: r.fields });
    else if (r.kind === 'error') emit({ line: l.line, error: r.error });
    else this.open = { line: l.line, fields: r.fields, field: r.field, raw: [l] };
  }

  /** An unclosed quote: the record is broken; the lines it swallowed are read again. */
  private abandon(emit: (record: CsvRecord) => void): void {
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    emit({ line: open.line, error: 'a quoted field is never closed' });
    for (const l of open.raw.slice(1)) this.feed(l, emit);
  }
}

/** One CSV field, quoted when needed (for reports). */
export function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
