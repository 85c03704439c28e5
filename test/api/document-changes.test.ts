import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/platform/crypto.ts';
import type { TestRuntime } from '../harness.ts';
import { PATIENT_SAMPLES, makePdf } from './files.ts';
import {
  blobFiles,
  countDocuments,
  expectApiError,
  pushAsProfessional,
  signedInPatient,
  storageSnapshot,
  upload,
  uploaded,
  type ApiDocument,
  type SeededProfessional,
  clockedRuntime,
  type FixedClock,
  getDocument,
  listDocuments,
} from './support.ts';

/** The patient's vault over HTTP, changes: upload, edit, delete; and what the patient may not change. */

const START = new Date('2026-03-02T08:00:00Z');
let rt: TestRuntime;
let clock: FixedClock;
let pro: SeededProfessional;

beforeAll(async () => {
  ({ rt, clock, pro } = await clockedRuntime(START));
});
afterAll(async () => {
  await rt?.close();
});

/** Each document arrives a second after the previous one, so "newest first" is well defined. */
function tick(): void {
  clock.advance(1000);
}

const list = (cookie: string, query = '') => listDocuments(rt, cookie, query);
const ids = (page: { items: ApiDocument[] }): string[] => page.items.map((d) => d.id);
const get = (cookie: string, id: string) => getDocument(rt, cookie, id);

describe('POST /api/documents', () => {
  it.each(PATIENT_SAMPLES)(
    'uploads a $kind file with its title, date and category',
    async ({ mediaType, filename, make }) => {
      const p = await signedInPatient(rt);
      const content = make();
      const before = await storageSnapshot(rt);
      const res = await upload(rt.app, p.cookie, {
        content,
        contentType: mediaType,
        filename,
        fields: { title: `Mon ${filename}`, date: '2025-02-14', category: 'prescriptions' },
      });
      expect(res.statusCode, res.body).toBe(201);
      const doc = res.json<ApiDocument>();
      expect(doc).toMatchObject({
        title: `Mon ${filename}`,
        date: '2025-02-14T00:00:00.000Z',
        category: 'prescriptions',
        mediaType,
        size: content.length,
        sha256: sha256(content).toString('hex'),
        source: 'patient',
        editable: true,
      });
      const after = await storageSnapshot(rt);
      expect(after.documents).toBe(before.documents + 1);
      expect(after.blobs).toEqual([...before.blobs, `docs/${p.patient.id}/${doc.id}`].sort());
      const back = await rt.app.inject({ method: 'GET', url: doc.contentUrl, headers: { cookie: p.cookie } });
      expect(back.headers['content-type']).toBe(mediaType);
      expect(back.rawPayload.equals(content)).toBe(true);
    },
  );

  it('defaults the title to the file name, the category to "other" and the date to today', async () => {
    const p = await signedInPatient(rt);
    const doc = await uploaded(rt.app, p.cookie, { content: makePdf(), filename: 'analyse sang.pdf' });
    expect(doc).toMatchObject({ title: 'analyse sang', category: 'other', date: clock.now().toISOString() });
  });

  it('accepts the date as an ISO date-time', async () => {
    const p = await signedInPatient(rt);
    const doc = await uploaded(rt.app, p.cookie, {
      content: makePdf(),
      fields: { date: '2025-02-14T10:30:00+01:00' },
    });
    expect(doc.date).toBe('2025-02-14T09:30:00.000Z');
  });

  it('stores one document for two uploads with the same Idempotency-Key', async () => {
    const p = await signedInPatient(rt);
    const content = makePdf();
    const headers = { 'idempotency-key': 'upload-0001-retry' };
    const before = await storageSnapshot(rt);
    const first = await upload(rt.app, p.cookie, { content, headers });
    const second = await upload(rt.app, p.cookie, { content, headers });
    expect(first.statusCode, first.body).toBe(201);
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json<ApiDocument>().id).toBe(first.json<ApiDocument>().id);
    const after = await storageSnapshot(rt);
    expect(after.documents).toBe(before.documents + 1);
    expect(after.blobs.length).toBe(before.blobs.length + 1);
    expect(ids(await list(p.cookie))).toEqual([first.json<ApiDocument>().id]);
  });

  it('refuses another file under an Idempotency-Key already used, writing nothing', async () => {
    const p = await signedInPatient(rt);
    const headers = { 'idempotency-key': 'upload-0002-retry' };
    expect((await upload(rt.app, p.cookie, { content: makePdf(), headers })).statusCode).toBe(201);
    const before = await storageSnapshot(rt);
    expectApiError(await upload(rt.app, p.cookie, { content: makePdf(), headers }), 409, 'conflict');
    expect(await storageSnapshot(rt)).toEqual(before);
  });

  it('keeps Idempotency-Keys per person', async () => {
    const a = await signedInPatient(rt);
    const b = await signedInPatient(rt);
    const headers = { 'idempotency-key': 'same-key-for-two-people' };
    const content = makePdf();
    const fromA = await upload(rt.app, a.cookie, { content, headers });
    const fromB = await upload(rt.app, b.cookie, { content, headers });
    expect([fromA.statusCode, fromB.statusCode]).toEqual([201, 201]);
    expect(fromA.json<ApiDocument>().id).not.toBe(fromB.json<ApiDocument>().id);
  });
});

describe('PATCH /api/documents/:id', () => {
  it('edits the title, date and category of my own document', async () => {
    const p = await signedInPatient(rt);
    const doc = await uploaded(rt.app, p.cookie, {
      content: makePdf(),
      fields: { title: 'Scan', category: 'other' },
    });
    tick();
    const res = await rt.app.inject({
      method: 'PATCH',
      url: `/api/documents/${doc.id}`,
      headers: { cookie: p.cookie },
      payload: { title: '  Échographie  ', date: '2025-09-30', category: 'imaging' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const expected = {
      title: 'Échographie',
      date: '2025-09-30T00:00:00.000Z',
      category: 'imaging',
      updatedAt: clock.now().toISOString(),
    };
    expect(res.json()).toMatchObject(expected);
    expect(await get(p.cookie, doc.id)).toMatchObject({
      ...expected,
      sha256: doc.sha256,
      receivedAt: doc.receivedAt,
    });
  });

  it('changes only what is sent', async () => {
    const p = await signedInPatient(rt);
    const doc = await uploaded(rt.app, p.cookie, {
      content: makePdf(),
      fields: { title: 'Avant', date: '2020-01-01', category: 'biology' },
    });
    const res = await rt.app.inject({
      method: 'PATCH',
      url: `/api/documents/${doc.id}`,
      headers: { cookie: p.cookie },
      payload: { title: 'Après' },
    });
    expect(res.json()).toMatchObject({ title: 'Après', date: doc.date, category: 'biology' });
  });
});

describe('DELETE /api/documents/:id', () => {
  it('deletes my own document and its encrypted file', async () => {
    const p = await signedInPatient(rt);
    const doc = await uploaded(rt.app, p.cookie, { content: makePdf() });
    const blobPath = join(rt.dataDir, 'blobs', 'docs', p.patient.id, doc.id);
    expect(existsSync(blobPath)).toBe(true);
    const rows = await countDocuments(rt);
    const res = await rt.app.inject({
      method: 'DELETE',
      url: `/api/documents/${doc.id}`,
      headers: { cookie: p.cookie },
    });
    expect(res.statusCode, res.body).toBe(204);
    expect(res.body).toBe('');
    expect(existsSync(blobPath)).toBe(false);
    expect(await countDocuments(rt)).toBe(rows - 1);
    expectApiError(
      await rt.app.inject({ method: 'GET', url: `/api/documents/${doc.id}`, headers: { cookie: p.cookie } }),
      404,
      'not_found',
    );
    expectApiError(
      await rt.app.inject({
        method: 'DELETE',
        url: `/api/documents/${doc.id}`,
        headers: { cookie: p.cookie },
      }),
      404,
      'not_found',
    );
  });
});

describe("a professional's document", () => {
  it.each([
    ['PATCH', { title: 'Renamed' }],
    ['DELETE', undefined],
  ] as const)('%s → 403 with the reason, and nothing changes', async (method, payload) => {
    const p = await signedInPatient(rt);
    const pushed = await pushAsProfessional(rt, pro, p.patient, { title: 'Compte rendu opératoire' });
    const before = await storageSnapshot(rt);
    const metaBefore = await get(p.cookie, pushed.id);
    const res = await rt.app.inject({
      method,
      url: `/api/documents/${pushed.id}`,
      headers: { cookie: p.cookie },
      ...(payload ? { payload } : {}),
    });
    expectApiError(res, 403, 'forbidden');
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(
      /professionals cannot be changed or deleted/,
    );
    expect(await storageSnapshot(rt)).toEqual(before);
    expect(await get(p.cookie, pushed.id)).toEqual(metaBefore);
    expect(await blobFiles(rt)).toContain(`docs/${p.patient.id}/${pushed.id}`);
  });
});
