import { describe, it, expect } from 'vitest';
import { AppError } from '../../errors.ts';
import {
  assertContentMatchesType,
  isKnownMediaType,
  normalizeMediaType,
  sniffMediaType,
  type KnownMediaType,
} from './file-type.ts';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const bytes = (...parts: Array<number[] | string>): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...ascii(p)] : p)));

const SAMPLES: Record<KnownMediaType, Uint8Array> = {
  'application/pdf': ascii('%PDF-1.4\n%\u00e2\u00e3\n1 0 obj\n<<>>\nendobj\n%%EOF\n'),
  'image/png': bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d], 'IHDR'),
  'image/jpeg': bytes([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10], 'JFIF', [0x00]),
  'image/tiff': bytes('II', [0x2a, 0x00, 0x08, 0x00, 0x00, 0x00]),
  'application/rtf': ascii('{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} Bonjour\\par }'),
  'application/xml': ascii(
    '<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3"/>',
  ),
  'text/plain': ascii('Ordonnance du 15/01/2024\r\n\tParacétamol 1 g\fpage 2\n'),
};

describe('sniffMediaType', () => {
  const cases: Array<[string, Uint8Array, KnownMediaType | undefined]> = [
    ...Object.entries(SAMPLES).map(([type, b]): [string, Uint8Array, KnownMediaType] => [
      `sample ${type}`,
      b,
      type as KnownMediaType,
    ]),
    ['big-endian TIFF', bytes('MM', [0x00, 0x2a, 0x00, 0x00, 0x00, 0x08]), 'image/tiff'],
    ['XML without declaration', ascii('<root/>'), 'application/xml'],
    [
      'XML with BOM and leading whitespace',
      bytes([0xef, 0xbb, 0xbf], ' \r\n\t<?xml version="1.0"?><a/>'),
      'application/xml',
    ],
    [
      'XML with prefixed root',
      ascii('<hl7:ClinicalDocument xmlns:hl7="urn:hl7-org:v3"/>'),
      'application/xml',
    ],
    ['XML with underscore name', ascii('<_x/>'), 'application/xml'],
    ['XML with non-ASCII name', ascii('<données/>'), 'application/xml'],
    ['HTML is markup too', ascii('<html><body>hi</body></html>'), 'application/xml'],
    ['"<" not followed by a name is text', ascii('< 3 mmol/l'), 'text/plain'],
    ['"<=" is text', ascii('<= 5'), 'text/plain'],
    ['UTF-8 text with accents', ascii('Glycémie à jeun : 5,2 mmol/l — normal'), 'text/plain'],
    ['text with UTF-8 BOM', bytes([0xef, 0xbb, 0xbf], 'bonjour'), 'text/plain'],
    ['whitespace only is text', ascii(' \n'), 'text/plain'],
    ['empty', new Uint8Array(0), undefined],
    ['NUL byte', bytes('abc', [0x00], 'def'), undefined],
    ['escape character', bytes('abc', [0x1b], '[31m'), undefined],
    ['vertical tab', bytes('abc', [0x0b]), undefined],
    ['DEL', bytes('abc', [0x7f]), undefined],
    ['C1 control (U+0085)', bytes('abc', [0xc2, 0x85]), undefined],
    ['invalid UTF-8 (Latin-1 é)', bytes('caf', [0xe9]), undefined],
    ['UTF-16LE text with BOM', bytes([0xff, 0xfe, 0x41, 0x00, 0x42, 0x00]), undefined],
    ['truncated PDF magic', ascii('%PDF'), 'text/plain'],
    ['truncated PNG magic', bytes([0x89, 0x50, 0x4e, 0x47]), undefined],
    ['two JPEG bytes only', bytes([0xff, 0xd8]), undefined],
    ['GIF is unknown', bytes('GIF89a', [0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00]), undefined],
    ['ZIP is unknown', bytes('PK', [0x03, 0x04, 0x14, 0x00, 0x00, 0x00]), undefined],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(sniffMediaType(input)).toBe(expected);
  });
});

describe('normalizeMediaType', () => {
  it.each([
    ['application/pdf', 'application/pdf'],
    ['Application/PDF', 'application/pdf'],
    ['  text/plain ; charset=utf-8 ', 'text/plain'],
    ['text/xml', 'application/xml'],
    ['TEXT/XML; charset=ISO-8859-1', 'application/xml'],
    ['application/hl7-v3+xml', 'application/xml'],
    ['image/jpg', 'image/jpeg'],
    ['image/pjpeg', 'image/jpeg'],
    ['image/x-png', 'image/png'],
    ['application/x-pdf', 'application/pdf'],
    ['text/rtf', 'application/rtf'],
    ['image/gif', 'image/gif'],
    ['', ''],
  ])('%j → %j', (declared, expected) => {
    expect(normalizeMediaType(declared)).toBe(expected);
  });

  it('knows exactly the seven vault types', () => {
    for (const type of Object.keys(SAMPLES)) expect(isKnownMediaType(type)).toBe(true);
    expect(isKnownMediaType('image/gif')).toBe(false);
    expect(isKnownMediaType('text/xml')).toBe(false);
  });
});

describe('assertContentMatchesType', () => {
  const ALL = Object.keys(SAMPLES) as KnownMediaType[];
  const PATIENT_UPLOAD: readonly KnownMediaType[] = [
    'application/pdf',
    'text/plain',
    'application/rtf',
    'image/jpeg',
    'image/png',
    'image/tiff',
  ];

  it.each(ALL)('accepts a real %s declared as such', (type) => {
    expect(assertContentMatchesType(type, SAMPLES[type], ALL, 'file')).toBe(type);
  });

  it.each([
    ['image/jpg', 'image/jpeg'],
    ['IMAGE/JPEG; q=1', 'image/jpeg'],
    ['application/x-pdf', 'application/pdf'],
    ['text/rtf', 'application/rtf'],
    ['text/xml', 'application/xml'],
    ['application/hl7-v3+xml', 'application/xml'],
    ['text/plain; charset=utf-8', 'text/plain'],
  ] as const)('accepts alias %s and returns %s', (declared, expected) => {
    expect(assertContentMatchesType(declared, SAMPLES[expected], ALL)).toBe(expected);
  });

  const mismatches: Array<[KnownMediaType, Uint8Array, string]> = [
    ['text/plain', SAMPLES['application/xml'], 'application/xml'],
    ['text/plain', SAMPLES['application/rtf'], 'application/rtf'],
    ['application/pdf', SAMPLES['image/png'], 'image/png'],
    ['image/jpeg', SAMPLES['image/png'], 'image/png'],
    ['image/png', SAMPLES['image/jpeg'], 'image/jpeg'],
    ['image/tiff', SAMPLES['text/plain'], 'text/plain'],
    ['application/rtf', SAMPLES['text/plain'], 'text/plain'],
    ['application/xml', SAMPLES['application/pdf'], 'application/pdf'],
    ['application/pdf', bytes('PK', [0x03, 0x04, 0x00]), 'unknown'],
    ['application/pdf', new Uint8Array(0), 'empty'],
    ['text/plain', new Uint8Array(0), 'empty'],
  ];
  it.each(mismatches)(
    'refuses content declared %s that is something else (case %#)',
    (declared, content, looksLike) => {
      const err = catchAppError(() => assertContentMatchesType(declared, content, ALL, 'file'));
      expect(err.code).toBe('invalid_input');
      expect(err.field).toBe('file');
      expect(err.message).toBe(`The file content is not a ${declared} (looks like ${looksLike})`);
    },
  );

  it.each([
    ['image/gif', 'image/gif'],
    ['application/octet-stream', 'application/octet-stream'],
    ['application/xml', 'application/xml'], // known, but not allowed for a patient upload
    ['text/xml', 'application/xml'],
  ])('refuses declared type %s when not allowed', (declared, shown) => {
    const err = catchAppError(() =>
      assertContentMatchesType(declared, SAMPLES['application/xml'], PATIENT_UPLOAD, 'contentType'),
    );
    expect(err.code).toBe('unsupported_media_type');
    expect(err.field).toBe('contentType');
    expect(err.message).toContain(`'${shown}'`);
    expect(err.message).toContain('application/pdf, text/plain');
  });

  it('refuses an empty declared type as unsupported', () => {
    const err = catchAppError(() => assertContentMatchesType('', SAMPLES['text/plain'], PATIENT_UPLOAD));
    expect(err.code).toBe('unsupported_media_type');
    expect(err.field).toBeUndefined();
  });

  it('checks the type allow-list before looking at the content', () => {
    const err = catchAppError(() => assertContentMatchesType('image/gif', new Uint8Array(0), PATIENT_UPLOAD));
    expect(err.code).toBe('unsupported_media_type');
  });
});

function catchAppError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError, nothing was thrown');
}
