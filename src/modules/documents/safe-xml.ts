/**
 * Reading untrusted XML safely: refuse what can make a parser fetch files or expand without bound
 * (DOCTYPE, entity declarations), refuse encodings we do not read, then parse with entity
 * processing disabled into a small namespace-aware tree. The five predefined entities and
 * character references are decoded here, once and without recursion.
 * Pure functions, no I/O. Used by cda.ts; the public surface is re-exported from there.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AppError, invalid } from '../../errors.ts';

/** Upper bound for an XML document: a 5 MB PDF in base64 inside a CDA header, with a wide margin. */
export const DEFAULT_MAX_XML_BYTES = 20 * 1024 * 1024;

export interface SafeXmlOptions {
  /** Refuse documents larger than this many bytes (UTF-8). Default DEFAULT_MAX_XML_BYTES. */
  maxBytes?: number;
  /**
   * Processing-instruction targets accepted besides the leading XML declaration. Default
   * `['xml-stylesheet', 'oxygen']`. Targets are compared exactly (XML names are case-sensitive).
   */
  allowedProcessingInstructions?: readonly string[];
}

// oxygen: schema hints left by the XML editor the ANS uses for its official CDA examples; inert.
const DEFAULT_ALLOWED_PIS: readonly string[] = ['xml-stylesheet', 'oxygen'];
const ACCEPTED_ENCODINGS = new Set(['utf-8', 'us-ascii']);
const MAX_DEPTH = 100;

const refuse = (why: string, field?: string): AppError =>
  invalid(`The XML document is refused: ${why}`, field);

function assertSize(byteLength: number, maxBytes: number, field?: string): void {
  if (byteLength > maxBytes) {
    throw new AppError(
      'payload_too_large',
      `The XML document is too large (${byteLength} bytes, at most ${maxBytes} accepted)`,
      field,
    );
  }
}

/**
 * Refuses XML that is unsafe or that we do not read: any DOCTYPE or other markup declaration
 * (`<!ENTITY`, `<!ELEMENT`, …), processing instructions other than the leading XML declaration and
 * the allowed targets, encodings other than UTF-8 / US-ASCII, UTF-16/32 content (NUL characters,
 * undecodable byte order mark) and documents over the size limit (`payload_too_large`).
 * As a second net, `<!DOCTYPE` / `<!ENTITY` are refused anywhere, comments and CDATA included.
 *
 * @throws AppError `invalid_input` (or `payload_too_large`) naming the reason.
 * @example assertSafeXml('<?xml version="1.0"?><a/>') // passes
 * @example assertSafeXml('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>') // throws invalid_input
 */
export function assertSafeXml(text: string, field?: string, options: SafeXmlOptions = {}): void {
  assertSize(Buffer.byteLength(text, 'utf8'), options.maxBytes ?? DEFAULT_MAX_XML_BYTES, field);
  if (text.includes('\u0000')) {
    throw refuse(
      'it contains NUL characters (UTF-16 or UTF-32 encoded XML is not accepted; use UTF-8)',
      field,
    );
  }
  if (text.startsWith('\uFFFD') || text.startsWith('\uFFFE')) {
    throw refuse('it starts with a byte order mark that is not UTF-8', field);
  }
  const netHit = /<!\s*(doctype|entity)/i.exec(text);
  if (netHit) {
    throw refuse(`it contains a <!${(netHit[1] ?? '').toUpperCase()} declaration`, field);
  }
  scanMarkup(text, field, options.allowedProcessingInstructions ?? DEFAULT_ALLOWED_PIS);
}

/** Walks the markup (`<…`) of the document, skipping comments and CDATA sections. */
function scanMarkup(text: string, field: string | undefined, allowedPis: readonly string[]): void {
  const start = text.startsWith('\uFEFF') ? 1 : 0;
  let i = text.indexOf('<', start);
  while (i !== -1) {
    let resumeAt = i + 1;
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end === -1) return; // unterminated: the parser reports it
      resumeAt = end + 3;
    } else if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end === -1) return;
      resumeAt = end + 3;
    } else if (text[i + 1] === '!') {
      const keyword = /^<!\s*([A-Za-z[]*)/.exec(text.slice(i, i + 40))?.[1] ?? '';
      throw refuse(`markup declarations are not allowed (found <!${keyword})`, field);
    } else if (text[i + 1] === '?') {
      const end = text.indexOf('?>', i + 2);
      const body = text.slice(i + 2, end === -1 ? undefined : end);
      const target = /^[^\s?]*/.exec(body)?.[0] ?? '';
      if (target === 'xml' && i === start) {
        assertDeclaredEncoding(body, field);
      } else if (target.toLowerCase() === 'xml') {
        throw refuse('an XML declaration is only allowed at the very start of the document', field);
      } else if (!allowedPis.includes(target)) {
        const shown = target === '' ? 'without a target' : `<?${target}?>`;
        throw refuse(`processing instructions are not allowed (found ${shown})`, field);
      }
      if (end === -1) return;
      resumeAt = end + 2;
    }
    i = text.indexOf('<', resumeAt);
  }
}

function assertDeclaredEncoding(declarationBody: string, field?: string): void {
  const encoding = /\sencoding\s*=\s*(["'])([^"']*)\1/.exec(declarationBody)?.[2];
  if (encoding !== undefined && !ACCEPTED_ENCODINGS.has(encoding.toLowerCase())) {
    throw refuse(`it declares the encoding '${encoding}'; only UTF-8 (or US-ASCII) is accepted`, field);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Bytes → text for an XML document: size limit first, then refuses UTF-16/UTF-32 (by byte order
 * mark or by the shape of a leading `<`), then strict UTF-8 decoding. A UTF-8 BOM is dropped.
 *
 * @example decodeXmlBytes(new TextEncoder().encode('<a/>')) // '<a/>'
 */
export function decodeXmlBytes(bytes: Uint8Array, field?: string, options: SafeXmlOptions = {}): string {
  assertSize(bytes.length, options.maxBytes ?? DEFAULT_MAX_XML_BYTES, field);
  const [b0, b1] = bytes;
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) {
    throw refuse('it starts with a UTF-16 byte order mark; only UTF-8 is accepted', field);
  }
  if (b0 === 0x00 || (b0 === 0x3c && b1 === 0x00)) {
    throw refuse('it looks UTF-16 or UTF-32 encoded; only UTF-8 is accepted', field);
  }
  const hasBom = b0 === 0xef && b1 === 0xbb && bytes[2] === 0xbf;
  try {
    return utf8.decode(hasBom ? bytes.subarray(3) : bytes);
  } catch {
    throw refuse('it is not valid UTF-8', field);
  }
}

/** An element with its namespace resolved. Attributes are keyed by their name as written. */
export interface XmlElement {
  namespace: string | undefined;
  localName: string;
  attributes: Readonly<Record<string, string>>;
  children: XmlElement[];
  /** Character data directly inside this element (text and CDATA), references decoded. */
  text: string;
}

const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
};

function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** One pass, no recursion: the result is never scanned again, so nothing can expand. */
function decodeReferences(raw: string, field?: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(
    /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z_][A-Za-z0-9_.-]{0,30})?(;)?/g,
    (_m, ref, semi) => {
      if (typeof ref !== 'string' || semi !== ';')
        throw notWellFormed("a bare '&' must be written &amp;", field);
      if (ref.startsWith('#')) {
        const cp = ref.startsWith('#x')
          ? Number.parseInt(ref.slice(2), 16)
          : Number.parseInt(ref.slice(1), 10);
        if (!isXmlChar(cp)) throw notWellFormed(`&${ref}; is not a valid character`, field);
        return String.fromCodePoint(cp);
      }
      const value = PREDEFINED_ENTITIES[ref];
      if (value === undefined) throw notWellFormed(`the entity &${ref}; is not defined`, field);
      return value;
    },
  );
}

const notWellFormed = (detail: string, field?: string): AppError =>
  invalid(`The CDA document is not well-formed XML: ${detail}`, field);

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  cdataPropName: '#cdata',
  maxNestedTags: MAX_DEPTH,
});

type Scope = ReadonlyMap<string, string>;
const BASE_SCOPE: Scope = new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]);

/**
 * Checks safety and well-formedness, then parses into a namespace-aware tree and returns the root.
 *
 * @example parseSafeXml(new TextEncoder().encode('<a xmlns="urn:x"/>')).namespace // 'urn:x'
 */
export function parseSafeXml(bytes: Uint8Array, field?: string, options: SafeXmlOptions = {}): XmlElement {
  const text = decodeXmlBytes(bytes, field, options);
  assertSafeXml(text, field, options);
  const verdict = XMLValidator.validate(text);
  if (verdict !== true) {
    const { msg, line, col } = verdict.err;
    throw notWellFormed(`${msg} (line ${line}, column ${col})`, field);
  }
  let nodes: unknown;
  try {
    nodes = parser.parse(text);
  } catch (err) {
    throw notWellFormed(err instanceof Error ? err.message : String(err), field);
  }
  const roots = buildChildren(nodes, BASE_SCOPE, field);
  if (roots.elements.length !== 1) {
    throw notWellFormed(`expected exactly one root element, found ${roots.elements.length}`, field);
  }
  if (roots.text.trim() !== '') throw notWellFormed('text outside the root element', field);
  return roots.elements[0] as XmlElement;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Turns fast-xml-parser's ordered output (`[{tag: [...], ':@': {...}} | {'#text': s}]`) into elements. */
function buildChildren(
  nodes: unknown,
  scope: Scope,
  field: string | undefined,
): { elements: XmlElement[]; text: string } {
  const elements: XmlElement[] = [];
  let text = '';
  if (!Array.isArray(nodes)) return { elements, text };
  for (const node of nodes) {
    if (!isRecord(node)) continue;
    for (const [key, value] of Object.entries(node)) {
      if (key === ':@') continue;
      if (key === '#text') text += decodeReferences(String(value), field);
      else if (key === '#cdata') text += rawText(value);
      else elements.push(buildElement(key, value, node[':@'], scope, field));
    }
  }
  return { elements, text };
}

function rawText(cdataNodes: unknown): string {
  if (!Array.isArray(cdataNodes)) return '';
  return cdataNodes.map((n) => (isRecord(n) && typeof n['#text'] === 'string' ? n['#text'] : '')).join('');
}

function buildElement(
  qname: string,
  content: unknown,
  rawAttributes: unknown,
  parentScope: Scope,
  field: string | undefined,
): XmlElement {
  // No prototype: an attribute named __proto__ stays an ordinary key.
  const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
  let scope = parentScope;
  if (isRecord(rawAttributes)) {
    for (const [name, value] of Object.entries(rawAttributes)) {
      const decoded = decodeReferences(String(value), field);
      attributes[name] = decoded;
      if (name === 'xmlns' || name.startsWith('xmlns:')) {
        if (scope === parentScope) scope = new Map(parentScope);
        (scope as Map<string, string>).set(name === 'xmlns' ? '' : name.slice(6), decoded);
      }
    }
  }
  const colon = qname.indexOf(':');
  const prefix = colon === -1 ? '' : qname.slice(0, colon);
  const namespace = scope.get(prefix);
  if (prefix !== '' && namespace === undefined) {
    throw notWellFormed(`the namespace prefix '${prefix}' of <${qname}> is not declared`, field);
  }
  const { elements, text } = buildChildren(content, scope, field);
  return {
    namespace: namespace === '' ? undefined : namespace,
    localName: colon === -1 ? qname : qname.slice(colon + 1),
    attributes,
    children: elements,
    text,
  };
}
