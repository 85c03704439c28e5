import { inflateSync } from 'node:zlib';

/**
 * Reading back the PDFs Carnet makes (src/platform/pdf.ts, pdf-lib): the decompressed content
 * streams, where drawn text is written as hex strings. A stream is framed as `stream\n…\nendstream`
 * (its data may end with any byte, a CR included, so the frame is matched exactly).
 */
export function pdfContent(pdf: Buffer): string {
  let out = '';
  for (const m of pdf.toString('latin1').matchAll(/stream\r?\n([\s\S]*?)\nendstream/g)) {
    const raw = Buffer.from(m[1] ?? '', 'latin1');
    try {
      out += inflateSync(raw).toString('latin1');
    } catch {
      out += raw.toString('latin1');
    }
  }
  return out;
}

/** The hex form in which pdf-lib draws a (Latin-1) text. */
export const pdfHex = (text: string): string => Buffer.from(text, 'latin1').toString('hex').toUpperCase();

/** True when `text` is drawn in the PDF. */
export function pdfHasText(pdf: Buffer, text: string): boolean {
  return pdfContent(pdf).includes(pdfHex(text));
}
