import { PDFDocument, StandardFonts, rgb, type PDFFont } from 'pdf-lib';

/**
 * Plain printable documents (letters, proofs, attestations) as PDF: a title, paragraphs, an
 * optional emphasised block (a code, a reference) and a footer, on A4 pages, wrapped to the
 * width. Standard Helvetica (WinAnsi): French accented letters print; characters outside it are
 * replaced by '?'. Nothing is executable: no JavaScript, no forms, no links.
 */

export interface TextPdf {
  readonly title: string;
  /** Paragraphs; an empty string is a blank line. */
  readonly paragraphs: readonly string[];
  /** Shown large and bold after the paragraphs (e.g. a provisional code). */
  readonly highlight?: string;
  /** Paragraphs after the highlight. */
  readonly after?: readonly string[];
  readonly footer?: string;
  /** Creation date recorded in the file (use the service clock). */
  readonly at: Date;
  readonly language?: 'fr' | 'en';
}

const A4 = { width: 595.28, height: 841.89 };
const MARGIN = 56;

function printable(font: PDFFont, text: string): string {
  let out = '';
  for (const ch of text) {
    try {
      font.encodeText(ch);
      out += ch;
    } catch {
      out += '?';
    }
  }
  return out;
}

function wrap(font: PDFFont, size: number, text: string, width: number): string[] {
  const words = printable(font, text).split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const next = line ? `${line} ${word}` : word;
    if (font.widthOfTextAtSize(next, size) <= width || !line) line = next;
    else {
      lines.push(line);
      line = word;
    }
  }
  lines.push(line);
  return lines;
}

/** @example const bytes = await renderTextPdf({ title: 'Attestation', paragraphs: ['…'], at: ctx.clock.now() }); */
export async function renderTextPdf(input: TextPdf): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.setTitle(printable(await doc.embedFont(StandardFonts.Helvetica), input.title));
  doc.setCreator('Carnet');
  doc.setProducer('Carnet');
  doc.setLanguage(input.language === 'en' ? 'en-GB' : 'fr-FR');
  doc.setCreationDate(input.at);
  doc.setModificationDate(input.at);
  const regular = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const width = A4.width - 2 * MARGIN;
  let page = doc.addPage([A4.width, A4.height]);
  let y = A4.height - MARGIN;
  const write = (text: string, font: PDFFont, size: number, gap: number): void => {
    const lines = text === '' ? [''] : wrap(font, size, text, width);
    for (const line of lines) {
      if (y - size < MARGIN + 24) {
        page = doc.addPage([A4.width, A4.height]);
        y = A4.height - MARGIN;
      }
      y -= size;
      if (line) page.drawText(line, { x: MARGIN, y, size, font, color: rgb(0.1, 0.1, 0.12) });
      y -= size * 0.45;
    }
    y -= gap;
  };
  write(input.title, bold, 18, 14);
  for (const p of input.paragraphs) write(p, regular, 11, 6);
  if (input.highlight) {
    y -= 8;
    write(input.highlight, bold, 20, 14);
  }
  for (const p of input.after ?? []) write(p, regular, 11, 6);
  if (input.footer) {
    const pages = doc.getPages();
    pages.forEach((pg, i) => {
      const text = printable(regular, `${input.footer} — ${i + 1}/${pages.length}`);
      pg.drawText(text, { x: MARGIN, y: MARGIN - 20, size: 8, font: regular, color: rgb(0.35, 0.35, 0.4) });
    });
  }
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}
