import { describe, expect, it } from 'vitest';
import { pdfContent as pageText } from '../../test/pdf.ts';
import { renderTextPdf } from './pdf.ts';

describe('renderTextPdf', () => {
  it('writes a real PDF with the title, the highlight and every paragraph', async () => {
    const pdf = await renderTextPdf({
      title: 'Votre code provisoire',
      paragraphs: ['Madame Élodie Müller,', 'Voici votre code.'],
      highlight: 'ABCD-EFGH-JKLM',
      footer: 'Carnet',
      at: new Date('2026-01-02T03:04:05Z'),
    });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pageText(pdf);
    // Hex-encoded strings in pdf-lib's content streams.
    const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex').toUpperCase();
    expect(text).toContain(hex('ABCD-EFGH-JKLM'));
    expect(text).toContain(hex('Madame Élodie Müller,'));
    expect(pdf.toString('latin1')).not.toMatch(/\/JavaScript|\/JS\b|\/OpenAction/);
  });

  it('wraps long paragraphs onto new pages and replaces characters the font cannot print', async () => {
    const long = Array.from({ length: 400 }, (_, i) => `mot${i}`).join(' ');
    const pdf = await renderTextPdf({
      title: 'Long',
      paragraphs: [long, long, long, 'emoji 😀 here'],
      at: new Date(),
    });
    expect((pdf.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length).toBeGreaterThan(1);
    expect(pageText(pdf)).toContain(Buffer.from('emoji ? here', 'latin1').toString('hex').toUpperCase());
  });
});
