import { randomBytes } from 'node:crypto';

/**
 * Test helper: builds a multipart/form-data body by hand (RFC 7578), for `app.inject` uploads
 * without an HTTP client dependency.
 */

export type MultipartPart =
  { name: string; value: string } | { name: string; filename: string; contentType: string; content: Buffer };

export interface MultipartBody {
  /** The full Content-Type header value, boundary included. */
  contentType: string;
  body: Buffer;
}

/** Quotes a header parameter value; test names never contain quotes or line breaks, refuse them if they do. */
function quoted(value: string): string {
  if (/["\r\n]/.test(value))
    throw new Error(`Unsupported character in multipart parameter: ${JSON.stringify(value)}`);
  return `"${value}"`;
}

/**
 * Encodes text fields and files as one multipart/form-data body.
 *
 * @example
 * const { contentType, body } = buildMultipart([
 *   { name: 'title', value: 'Blood test' },
 *   { name: 'file', filename: 'report.pdf', contentType: 'application/pdf', content: pdfBytes },
 * ]);
 * await app.inject({ method: 'POST', url: '/api/documents', headers: { 'content-type': contentType }, payload: body });
 */
export function buildMultipart(parts: MultipartPart[]): MultipartBody {
  const boundary = `----carnet-test-${randomBytes(12).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(part.name)}`;
    if ('filename' in part) {
      head += `; filename=${quoted(part.filename)}\r\nContent-Type: ${part.contentType}\r\n\r\n`;
      chunks.push(Buffer.from(head, 'utf8'), part.content, Buffer.from('\r\n'));
    } else {
      chunks.push(Buffer.from(`${head}\r\n\r\n${part.value}\r\n`, 'utf8'));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(chunks) };
}
