import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATIENT_MAX_BYTES } from '../../src/modules/documents/index.ts';
import { createTestRuntime, type TestRuntime } from '../harness.ts';
import { buildMultipart } from '../multipart.ts';
import { makePdf, makePng, makeTxt } from './files.ts';
import {
  auditRows,
  expectApiError,
  signedInPatient,
  storageSnapshot,
  upload,
  uploaded,
  type ApiDocument,
  type ApiPatient,
  type UploadOptions,
} from './support.ts';

/**
 * Bad input on the patient API: every refusal has the `{"error":{code,message,field?}}` shape and
 * writes nothing (no document row, no file under <dataDir>/blobs).
 *
 * Decisions recorded here:
 * - An id that is not a UUID (path traversal included) answers 404 not_found, like any document the
 *   person may not see: ids are opaque, and "not found" is the one answer for "not yours / not there".
 * - HTML declared as text/plain: refused when the content starts with markup (the sniffer sees XML/HTML,
 *   not plain text). Text that merely mentions markup is plain text and is accepted; it can never render,
 *   because downloads are served with their stored type, `nosniff`, as an attachment under a sandbox CSP.
 */

let rt: TestRuntime;
let p: ApiPatient;
let own: ApiDocument;

beforeAll(async () => {
  rt = await createTestRuntime();
  p = await signedInPatient(rt);
  own = await uploaded(rt.app, p.cookie, { content: makePdf() });
});
afterAll(async () => {
  await rt?.close();
});

/** Runs a request that must be refused, and checks that nothing was written. */
async function expectRefused(
  send: () => Promise<Awaited<ReturnType<typeof upload>>>,
  status: number,
  code: string,
  field?: string,
): Promise<void> {
  const before = await storageSnapshot(rt);
  expectApiError(await send(), status, code, field);
  expect(await storageSnapshot(rt)).toEqual(before);
}

const inject = (options: InjectOptions) => () =>
  rt.app.inject({
    ...options,
    headers: { cookie: p.cookie, ...(options.headers as Record<string, string>) },
  });

const uploadOf = (options: Omit<UploadOptions, 'content'> & { content?: Buffer }) => () =>
  upload(rt.app, p.cookie, { content: makePdf(), ...options });

/** A PE executable header ("MZ", then a DOS stub). */
const EXE = Buffer.concat([
  Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'),
  Buffer.alloc(56),
  Buffer.from('This program cannot be run in DOS mode.'),
]);

describe('malformed and oversize bodies', () => {
  it.each([
    ['PATCH a document', 'PATCH', (): string => `/api/documents/${own.id}`],
    ['sign in', 'POST', (): string => '/api/session'],
  ] as const)('malformed JSON (%s) → 400', async (_, method, url) => {
    await expectRefused(
      inject({
        method,
        url: url(),
        headers: { 'content-type': 'application/json' },
        payload: '{"title": "x",',
      }),
      400,
      'invalid_input',
    );
  });

  it('a JSON body over 1 MB → 413', async () => {
    await expectRefused(
      inject({
        method: 'PATCH',
        url: `/api/documents/${own.id}`,
        payload: { title: 'x'.repeat(1024 * 1024 + 10) },
      }),
      413,
      'payload_too_large',
    );
  });

  it('a body of an unknown content type → 415', async () => {
    await expectRefused(
      inject({
        method: 'PATCH',
        url: `/api/documents/${own.id}`,
        headers: { 'content-type': 'application/xml' },
        payload: '<title/>',
      }),
      415,
      'unsupported_media_type',
    );
  });
});

describe('uploads', () => {
  it.each([
    ['JSON', 'application/json', JSON.stringify({ title: 'x', content: 'JVBERi0=' })],
    ['plain text', 'text/plain', '%PDF-1.4 not multipart'],
    ['url-encoded form', 'application/x-www-form-urlencoded', 'title=x'],
  ])('a %s body instead of multipart → 415', async (_, contentType, payload) => {
    await expectRefused(
      inject({ method: 'POST', url: '/api/documents', headers: { 'content-type': contentType }, payload }),
      415,
      'unsupported_media_type',
    );
  });

  it('a file over 5 MB → 413', async () => {
    const big = Buffer.concat([makePdf(), Buffer.alloc(PATIENT_MAX_BYTES, 0x20)]);
    await expectRefused(uploadOf({ content: big }), 413, 'payload_too_large');
  });

  it('a file of exactly 5 MB is accepted', async () => {
    const pdf = makePdf();
    const exact = Buffer.concat([pdf, Buffer.alloc(PATIENT_MAX_BYTES - pdf.length, 0x20)]);
    const res = await upload(rt.app, p.cookie, { content: exact });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json<ApiDocument>().size).toBe(PATIENT_MAX_BYTES);
  });

  it.each([
    ['a PNG declared as PDF', makePng(), 'application/pdf'],
    ['a PDF declared as PNG', makePdf(), 'image/png'],
    ['text declared as JPEG', makeTxt(), 'image/jpeg'],
    ['an executable declared as PDF', EXE, 'application/pdf'],
    [
      'HTML declared as text/plain',
      Buffer.from('<html><body><script>alert(1)</script></body></html>'),
      'text/plain',
    ],
    ['XML declared as text/plain', Buffer.from('<?xml version="1.0"?><ClinicalDocument/>'), 'text/plain'],
  ])('%s → 400 (the real type must match the declared one)', async (_, content, contentType) => {
    await expectRefused(uploadOf({ content, contentType }), 400, 'invalid_input', 'file.contentType');
  });

  it.each([
    ['an executable', 'application/x-msdownload', EXE],
    ['an executable as octet-stream', 'application/octet-stream', EXE],
    ['HTML', 'text/html', Buffer.from('<html></html>')],
    ['SVG', 'image/svg+xml', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')],
    ['a ZIP archive', 'application/zip', Buffer.from('PK\x03\x04', 'latin1')],
    ['XML (professionals only)', 'application/xml', Buffer.from('<?xml version="1.0"?><a/>')],
  ])('%s → 415', async (_, contentType, content) => {
    await expectRefused(
      uploadOf({ content, contentType }),
      415,
      'unsupported_media_type',
      'file.contentType',
    );
  });

  it('an empty file → 400', async () => {
    await expectRefused(uploadOf({ content: Buffer.alloc(0) }), 400, 'invalid_input', 'file.contentType');
  });

  it('text that only mentions markup is plain text, and comes back inert', async () => {
    const content = Buffer.from(
      'Note: the lab portal showed <script>alert(1)</script> instead of my results.\n',
    );
    const doc = await uploaded(rt.app, p.cookie, {
      content,
      contentType: 'text/plain',
      filename: 'note.txt',
    });
    const res = await rt.app.inject({ method: 'GET', url: doc.contentUrl, headers: { cookie: p.cookie } });
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-disposition']).toMatch(/^attachment;/);
    expect(res.headers['content-security-policy']).toMatch(/sandbox/);
  });

  it.each([
    ['an unknown category', { category: 'horoscope' }, 'category'],
    ['a date that does not exist', { date: '2024-02-30' }, 'date'],
    ['a date in words', { date: 'yesterday' }, 'date'],
    ['a date in French order', { date: '14/02/2025' }, 'date'],
  ])('%s → 400', async (_, fields, field) => {
    await expectRefused(uploadOf({ fields }), 400, 'invalid_input', field);
  });

  it.each([
    ['too short', 'abc'],
    ['with spaces', 'key with spaces'],
    ['too long', 'k'.repeat(129)],
  ])('an Idempotency-Key %s → 400', async (_, key) => {
    await expectRefused(
      uploadOf({ headers: { 'idempotency-key': key } }),
      400,
      'invalid_input',
      'Idempotency-Key',
    );
  });

  it('a form without a file → 400', async () => {
    const { contentType, body } = buildMultipart([{ name: 'title', value: 'No file' }]);
    await expectRefused(
      inject({
        method: 'POST',
        url: '/api/documents',
        headers: { 'content-type': contentType },
        payload: body,
      }),
      400,
      'invalid_input',
      'file',
    );
  });

  it('a form with two files → 413 (the multipart limit of one file)', async () => {
    const file = { name: 'file', filename: 'a.pdf', contentType: 'application/pdf', content: makePdf() };
    const { contentType, body } = buildMultipart([file, { ...file, filename: 'b.pdf', content: makePdf() }]);
    await expectRefused(
      inject({
        method: 'POST',
        url: '/api/documents',
        headers: { 'content-type': contentType },
        payload: body,
      }),
      413,
      'payload_too_large',
    );
  });
});

describe('queries', () => {
  it.each([
    ['garbage', 'not-a-cursor'],
    ['a cursor without an id', Buffer.from('2026-01-01T00:00:00.000Z|').toString('base64url')],
    [
      'a cursor with a bad date',
      Buffer.from('tomorrow|0190f2b4-0000-7000-8000-000000000000').toString('base64url'),
    ],
    ['an over-long cursor', 'A'.repeat(300)],
  ])('GET /api/documents with %s → 400', async (_, cursor) => {
    await expectRefused(
      inject({ method: 'GET', url: `/api/documents?cursor=${cursor}` }),
      400,
      'invalid_input',
      'cursor',
    );
  });

  it.each([
    ['an unknown category', 'category=horoscope', 'category'],
    ['a bad from date', 'from=2024-13-01', 'from'],
    ['a bad to date', 'to=soon', 'to'],
    ['an unknown author', 'author=nurses', 'author'],
    ['an unknown status', 'status=deleted', 'status'],
    ['read=maybe', 'read=maybe', 'read'],
    ['limit=0', 'limit=0', 'limit'],
    ['limit=1000', 'limit=1000', 'limit'],
    ['limit=abc', 'limit=abc', 'limit'],
  ])('GET /api/documents with %s → 400', async (_, query, field) => {
    await expectRefused(
      inject({ method: 'GET', url: `/api/documents?${query}` }),
      400,
      'invalid_input',
      field,
    );
  });

  it.each([
    ['a bad cursor', 'cursor=abc'],
    ['limit=0', 'limit=0'],
    ['a bad date', 'from=last-week'],
  ])('GET /api/audit-events with %s → 400', async (_, query) => {
    await expectRefused(inject({ method: 'GET', url: `/api/audit-events?${query}` }), 400, 'invalid_input');
  });
});

describe('document ids', () => {
  const BAD_IDS = [
    'not-a-uuid',
    '12345',
    '0190F2B4-0000-7000-8000-000000000000', // upper case
    "x' OR '1'='1",
    '..%2F..%2Fetc%2Fpasswd',
    '..%2F..%2F..%2F..%2Fetc%2Fpasswd%00',
    '%2E%2E%2F%2E%2E%2Fblobs',
    '..%5C..%5Cwindows%5Cwin.ini',
  ];
  const ROUTES = [
    { method: 'GET', suffix: '' },
    { method: 'GET', suffix: '/content' },
    { method: 'PATCH', suffix: '', payload: { title: 'x' } },
    { method: 'PUT', suffix: '/read-state', payload: { read: true } },
    { method: 'DELETE', suffix: '' },
  ] as const;

  it.each(
    ROUTES.flatMap((r) =>
      BAD_IDS.map((id) => [`${r.method} /api/documents/${id}${r.suffix}`, r, id] as const),
    ),
  )('%s → 404', async (_, r, id) => {
    const before = await auditRows(rt, { outcome: 'denied' });
    await expectRefused(
      inject({
        method: r.method,
        url: `/api/documents/${id}${r.suffix}`,
        ...('payload' in r ? { payload: r.payload } : {}),
      }),
      404,
      'not_found',
    );
    // The attempt is on the record of denials, whatever characters it carried.
    expect((await auditRows(rt, { outcome: 'denied' })).length).toBe(before.length + 1);
  });

  it('an unknown but well-formed id → 404', async () => {
    await expectRefused(
      inject({ method: 'GET', url: '/api/documents/0190f2b4-0000-7000-8000-000000000000' }),
      404,
      'not_found',
    );
  });

  it('an id over 64 characters → 400', async () => {
    await expectRefused(
      inject({ method: 'GET', url: `/api/documents/${'a'.repeat(65)}` }),
      400,
      'invalid_input',
      'id',
    );
  });

  it('raw dot segments do not reach another route', async () => {
    await expectRefused(
      inject({ method: 'GET', url: '/api/documents/../../../etc/passwd' }),
      404,
      'not_found',
    );
  });
});

describe('edits', () => {
  it.each([
    ['an unknown field', { title: 'x', owner: 'me' }, undefined],
    ['an empty title', { title: '' }, 'title'],
    ['a blank title', { title: '   ' }, 'title'],
    ['a title over 500 characters', { title: 't'.repeat(501) }, 'title'],
    ['an unknown category', { category: 'horoscope' }, 'category'],
    ['a bad date', { date: '2024-02-30' }, 'date'],
    ['a number as title', { title: 42 }, 'title'],
  ])('PATCH with %s → 400', async (_, payload, field) => {
    await expectRefused(
      inject({ method: 'PATCH', url: `/api/documents/${own.id}`, payload }),
      400,
      'invalid_input',
      field,
    );
  });

  it.each([
    ['a string', { read: 'yes' }],
    ['nothing', {}],
  ])('PUT read-state with %s → 400', async (_, payload) => {
    await expectRefused(
      inject({ method: 'PUT', url: `/api/documents/${own.id}/read-state`, payload }),
      400,
      'invalid_input',
    );
  });
});

describe('characters PostgreSQL cannot store (NUL)', () => {
  it.each([
    [
      'a login',
      () => inject({ method: 'POST', url: '/api/session', payload: { login: 'a\u0000b', password: 'x' } }),
    ],
    [
      'a new title',
      () => inject({ method: 'PATCH', url: `/api/documents/${own.id}`, payload: { title: 'a\u0000b' } }),
    ],
    ['an upload title', () => uploadOf({ fields: { title: 'a\u0000b' } })],
    ['an upload file name', () => uploadOf({ filename: 'scan\u0000.pdf' })],
  ])('in %s → 400, not a server error', async (_, request) => {
    await expectRefused(request(), 400, 'invalid_input');
  });

  it('in an OAuth client id → 400, not a server error', async () => {
    const res = await rt.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials&client_id=a%00b&client_secret=x',
    });
    expect(res.statusCode, res.body).toBe(400);
  });
});
