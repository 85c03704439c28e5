import { randomBytes } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import { makePdf } from '../harness.ts';

/**
 * Tiny but valid files of every type a patient may upload (DOMAIN §3: PDF, TXT, RTF, JPEG, PNG,
 * TIFF), built byte by byte so no binary fixture is needed. Each call differs (a random marker or
 * pixel), so two uploads never share content by accident.
 */

function pngChunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/** A 1×1 8-bit greyscale PNG with a random comment. */
export function makePng(): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0); // width
  ihdr.writeUInt32BE(1, 4); // height
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // colour type: greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('tEXt', Buffer.from(`Comment\0${randomBytes(6).toString('hex')}`, 'latin1')),
    pngChunk('IDAT', deflateSync(Buffer.from([0x00, 0x80]))), // filter byte 0, one grey pixel
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A 1×1 greyscale baseline JPEG: one quantisation table, one-code Huffman tables, and a single
 * block whose DC difference is 0 followed by end-of-block (bits `00`, padded with ones: 0x3F).
 */
export function makeJpeg(): Buffer {
  const marker = (code: number, payload: number[]): number[] => [
    0xff,
    code,
    (payload.length + 2) >> 8,
    (payload.length + 2) & 0xff,
    ...payload,
  ];
  const oneCodeTable = (tableClassAndId: number): number[] => [
    tableClassAndId,
    1,
    ...new Array<number>(15).fill(0),
    0x00,
  ];
  const comment = [...Buffer.from(randomBytes(6).toString('hex'), 'latin1')];
  return Buffer.from([
    ...[0xff, 0xd8], // SOI
    ...marker(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]), // APP0 JFIF
    ...marker(0xfe, comment), // COM
    ...marker(0xdb, [0x00, ...new Array<number>(64).fill(1)]), // DQT
    ...marker(0xc0, [0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00]), // SOF0 1×1, 1 component
    ...marker(0xc4, oneCodeTable(0x00)), // DHT DC 0
    ...marker(0xc4, oneCodeTable(0x10)), // DHT AC 0
    ...marker(0xda, [0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]), // SOS
    0x3f, // entropy-coded data
    ...[0xff, 0xd9], // EOI
  ]);
}

/** A 1×1 8-bit greyscale uncompressed little-endian TIFF. */
export function makeTiff(): Buffer {
  const entries: Array<[tag: number, type: 3 | 4, value: number]> = [
    [256, 3, 1], // ImageWidth
    [257, 3, 1], // ImageLength
    [258, 3, 8], // BitsPerSample
    [259, 3, 1], // Compression: none
    [262, 3, 1], // PhotometricInterpretation: BlackIsZero
    [273, 4, 0], // StripOffsets (patched below)
    [278, 3, 1], // RowsPerStrip
    [279, 4, 1], // StripByteCounts
  ];
  const ifdSize = 2 + entries.length * 12 + 4;
  const pixelOffset = 8 + ifdSize;
  const buf = Buffer.alloc(pixelOffset + 1);
  buf.write('II', 0, 'latin1');
  buf.writeUInt16LE(42, 2);
  buf.writeUInt32LE(8, 4);
  buf.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, value], i) => {
    const at = 10 + i * 12;
    buf.writeUInt16LE(tag, at);
    buf.writeUInt16LE(type, at + 2);
    buf.writeUInt32LE(1, at + 4);
    if (type === 3) buf.writeUInt16LE(value, at + 8);
    else buf.writeUInt32LE(tag === 273 ? pixelOffset : value, at + 8);
  });
  buf.writeUInt32LE(0, 8 + 2 + entries.length * 12); // no next IFD
  buf[pixelOffset] = randomBytes(1)[0] ?? 0x80;
  return buf;
}

export function makeTxt(text = 'Tension 12/8 ce matin, à surveiller.'): Buffer {
  return Buffer.from(`${text} ${randomBytes(6).toString('hex')}\n`, 'utf8');
}

export function makeRtf(text = 'Lettre de liaison'): Buffer {
  return Buffer.from(
    `{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}}\\f0 ${text} ${randomBytes(6).toString('hex')}\\par}`,
    'latin1',
  );
}

export { makePdf };

/** One sample of each accepted patient upload type. */
export const PATIENT_SAMPLES: ReadonlyArray<{
  kind: string;
  mediaType: string;
  filename: string;
  make: () => Buffer;
}> = [
  { kind: 'PDF', mediaType: 'application/pdf', filename: 'compte-rendu.pdf', make: () => makePdf() },
  { kind: 'TXT', mediaType: 'text/plain', filename: 'notes.txt', make: () => makeTxt() },
  { kind: 'RTF', mediaType: 'application/rtf', filename: 'lettre.rtf', make: () => makeRtf() },
  { kind: 'JPEG', mediaType: 'image/jpeg', filename: 'ordonnance.jpg', make: () => makeJpeg() },
  { kind: 'PNG', mediaType: 'image/png', filename: 'radio.png', make: () => makePng() },
  { kind: 'TIFF', mediaType: 'image/tiff', filename: 'scan.tiff', make: () => makeTiff() },
];
