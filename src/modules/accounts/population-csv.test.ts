import { describe, expect, it } from 'vitest';
import { CsvReader, csvField, type CsvRecord } from './population-csv.ts';

function read(text: string, chunk = 3, width?: number): CsvRecord[] {
  const out: CsvRecord[] = [];
  const r = new CsvReader();
  r.width = width;
  for (let i = 0; i < text.length; i += chunk) r.push(text.slice(i, i + chunk), (x) => out.push(x));
  r.end((x) => out.push(x));
  return out;
}

describe('CsvReader', () => {
  it('reads RFC 4180 records across chunk boundaries, CRLF or LF, with quotes and a BOM', () => {
    const recs = read('\uFEFFa,b,c\r\n1,"x, ""y""",\n\n"multi\nline",2,3\nlast,,z');
    expect(recs).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', 'x, "y"', ''] },
      { line: 4, fields: ['multi\nline', '2', '3'] },
      { line: 6, fields: ['last', '', 'z'] },
    ]);
  });

  it('reports broken quoting with the line and reads on', () => {
    const recs = read('a,b"c,d\n"x"y,1,2\nok,1,2\n"open,1,2\nnext,1,2\n', 5, 3);
    expect(recs[0]).toMatchObject({ line: 1, error: expect.stringMatching(/stray quote/) as unknown });
    expect(recs[1]).toMatchObject({
      line: 2,
      error: expect.stringMatching(/after a closing quote/) as unknown,
    });
    expect(recs[2]).toEqual({ line: 3, fields: ['ok', '1', '2'] });
    expect(recs[3]).toMatchObject({ line: 4, error: expect.stringMatching(/never closed/) as unknown });
    expect(recs[4]).toEqual({ line: 5, fields: ['next', '1', '2'] });
  });

  it('gives up on a quote still open after a few lines and reads those lines again', () => {
    const recs = read('"a,1\nb,2\nc,3\nd,4\ne,5\nf,6\n', 4, 2);
    expect(recs[0]).toMatchObject({ line: 1, error: expect.stringMatching(/never closed/) as unknown });
    expect(recs.slice(1)).toEqual([
      { line: 2, fields: ['b', '2'] },
      { line: 3, fields: ['c', '3'] },
      { line: 4, fields: ['d', '4'] },
      { line: 5, fields: ['e', '5'] },
      { line: 6, fields: ['f', '6'] },
    ]);
  });

  it('quotes report fields only when needed', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a, "b"')).toBe('"a, ""b"""');
  });
});
