/**
 * File types of the document vault: what a file really is (from its first bytes), how a declared
 * media type is normalised, and the check that the two agree before anything is stored.
 * Pure functions, no I/O.
 */
import { AppError } from '../../errors.ts';

export type KnownMediaType =
  | 'application/pdf'
  | 'text/plain'
  | 'application/rtf'
  | 'image/jpeg'
  | 'image/png'
  | 'image/tiff'
  | 'application/xml';

const KNOWN_MEDIA_TYPES: ReadonlySet<string> = new Set<KnownMediaType>([
  'application/pdf',
  'text/plain',
  'application/rtf',
  'image/jpeg',
  'image/png',
  'image/tiff',
  'application/xml',
]);

/** Other spellings seen in the wild for the same formats. */
const MEDIA_TYPE_ALIASES: Readonly<Record<string, KnownMediaType>> = {
  'text/xml': 'application/xml',
  'application/hl7-v3+xml': 'application/xml',
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
  'application/x-pdf': 'application/pdf',
  'text/rtf': 'application/rtf',
};

const PDF_MAGIC = [0x25, 0x50, 0x44, 0x46, 0x2d]; // %PDF-
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];
const TIFF_LE_MAGIC = [0x49, 0x49, 0x2a, 0x00]; // II*\0
const TIFF_BE_MAGIC = [0x4d, 0x4d, 0x00, 0x2a]; // MM\0*
const RTF_MAGIC = [0x7b, 0x5c, 0x72, 0x74, 0x66]; // {\rtf
const UTF8_BOM = [0xef, 0xbb, 0xbf];
const XML_DECLARATION = [0x3c, 0x3f, 0x78, 0x6d, 0x6c]; // <?xml

function startsWith(bytes: Uint8Array, magic: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + magic.length) return false;
  return magic.every((b, i) => bytes[offset + i] === b);
}

function isXmlWhitespace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/** First byte of an XML name: ASCII letter, `_`, `:` or the lead byte of a non-ASCII UTF-8 sequence. */
function isNameStartByte(b: number | undefined): boolean {
  if (b === undefined) return false;
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f || b === 0x3a || b >= 0xc2;
}

function looksLikeXml(bytes: Uint8Array): boolean {
  let i = startsWith(bytes, UTF8_BOM) ? UTF8_BOM.length : 0;
  while (isXmlWhitespace(bytes[i])) i++;
  if (startsWith(bytes, XML_DECLARATION, i)) return true;
  return bytes[i] === 0x3c && isNameStartByte(bytes[i + 1]);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** C0 controls other than TAB, LF, FF, CR; DEL; C1 controls. */
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const FORBIDDEN_TEXT_CHARS = /[\u0000-\u0008\u000b\u000e-\u001f\u007f-\u009f]/;

function looksLikePlainText(bytes: Uint8Array): boolean {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return false;
  }
  return !FORBIDDEN_TEXT_CHARS.test(text);
}

/**
 * The media type a file really has, judged from its content (magic numbers), or undefined when
 * it is none of the known types. An empty file has no type.
 *
 * @example sniffMediaType(new TextEncoder().encode('%PDF-1.7\n...')) // 'application/pdf'
 */
export function sniffMediaType(bytes: Uint8Array): KnownMediaType | undefined {
  if (bytes.length === 0) return undefined;
  if (startsWith(bytes, PDF_MAGIC)) return 'application/pdf';
  if (startsWith(bytes, PNG_MAGIC)) return 'image/png';
  if (startsWith(bytes, JPEG_MAGIC)) return 'image/jpeg';
  if (startsWith(bytes, TIFF_LE_MAGIC) || startsWith(bytes, TIFF_BE_MAGIC)) return 'image/tiff';
  if (startsWith(bytes, RTF_MAGIC)) return 'application/rtf';
  if (looksLikeXml(bytes)) return 'application/xml';
  if (looksLikePlainText(bytes)) return 'text/plain';
  return undefined;
}

/**
 * Lower-cases a declared media type, drops its parameters and maps known aliases to one spelling.
 * Unknown types are returned normalised but otherwise unchanged.
 *
 * @example normalizeMediaType('Text/XML; charset=UTF-8') // 'application/xml'
 */
export function normalizeMediaType(declared: string): string {
  const essence = (declared.split(';', 1)[0] ?? '').trim().toLowerCase();
  return MEDIA_TYPE_ALIASES[essence] ?? essence;
}

/**
 * Whether a (normalised) media type is one of the vault's known types.
 *
 * @example isKnownMediaType(normalizeMediaType('image/jpg')) // true
 */
export function isKnownMediaType(type: string): type is KnownMediaType {
  return KNOWN_MEDIA_TYPES.has(type);
}

/**
 * Checks that a declared media type is accepted here and that the bytes really are of that type.
 * Returns the normalised type.
 *
 * @throws AppError `unsupported_media_type` when the declared type is not in `allowed`;
 *   `invalid_input` when the content is not of the declared type (or is empty).
 * @example assertContentMatchesType('image/jpg', jpegBytes, ['image/jpeg', 'image/png'], 'file') // 'image/jpeg'
 */
export function assertContentMatchesType(
  declared: string,
  bytes: Uint8Array,
  allowed: readonly KnownMediaType[],
  field?: string,
): KnownMediaType {
  const type = normalizeMediaType(declared);
  if (!isKnownMediaType(type) || !allowed.includes(type)) {
    const shown = type === '' ? 'an empty media type' : `'${type}'`;
    throw new AppError(
      'unsupported_media_type',
      `The media type ${shown} is not accepted here (accepted: ${allowed.join(', ')})`,
      field,
    );
  }
  const sniffed = bytes.length === 0 ? 'empty' : (sniffMediaType(bytes) ?? 'unknown');
  if (sniffed !== type) {
    throw new AppError('invalid_input', `The file content is not a ${type} (looks like ${sniffed})`, field);
  }
  return type;
}
