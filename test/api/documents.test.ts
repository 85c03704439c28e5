import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/platform/crypto.ts';
import type { TestRuntime } from '../harness.ts';
import { makePdf, makeTxt } from './files.ts';
import {
  pushAsProfessional,
  signedInPatient,
  uploaded,
  type ApiDocument,
  type ApiPatient,
  type SeededProfessional,
  clockedRuntime,
  type FixedClock,
  getDocument,
  listDocuments,
} from './support.ts';

/** The patient's vault over HTTP, reading: list, filters, paging, metadata, download, read state. */

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

describe('GET /api/documents filters', () => {
  let p: ApiPatient;
  const doc: Record<'ownBiology' | 'ownImaging' | 'proReport' | 'proOld' | 'proNew', string> = {
    ownBiology: '',
    ownImaging: '',
    proReport: '',
    proOld: '',
    proNew: '',
  };

  beforeAll(async () => {
    p = await signedInPatient(rt);
    tick();
    doc.ownBiology = (
      await uploaded(rt.app, p.cookie, {
        content: makePdf(),
        fields: { category: 'biology', date: '2024-01-10' },
      })
    ).id;
    tick();
    doc.ownImaging = (
      await uploaded(rt.app, p.cookie, {
        content: makePdf(),
        fields: { category: 'imaging', date: '2024-06-01' },
      })
    ).id;
    tick();
    doc.proReport = (await pushAsProfessional(rt, pro, p.patient, { date: '2024-03-15' })).id;
    tick();
    doc.proOld = (await pushAsProfessional(rt, pro, p.patient, { date: '2023-11-20' })).id;
    tick();
    doc.proNew = (
      await pushAsProfessional(rt, pro, p.patient, { date: '2023-11-21', replacesId: doc.proOld })
    ).id;
    const read = await rt.app.inject({
      method: 'PUT',
      url: `/api/documents/${doc.ownBiology}/read-state`,
      headers: { cookie: p.cookie },
      payload: { read: true },
    });
    expect(read.statusCode, read.body).toBe(200);
  });

  it.each([
    ['no filter: current documents, newest first', '', ['proNew', 'proReport', 'ownImaging', 'ownBiology']],
    ['one category', '?category=imaging', ['ownImaging']],
    ['several categories', '?category=biology,imaging', ['proNew', 'proReport', 'ownImaging', 'ownBiology']],
    ['a category with nothing in it', '?category=certificates', []],
    ['from (inclusive)', '?from=2024-03-15', ['proReport', 'ownImaging']],
    ['to (exclusive)', '?to=2024-06-01', ['proNew', 'proReport', 'ownBiology']],
    ['from and to', '?from=2024-01-01&to=2024-06-01', ['proReport', 'ownBiology']],
    ['a date-time bound', '?from=2024-01-10T00:00:01Z', ['proReport', 'ownImaging']],
    ['author=me', '?author=me', ['ownImaging', 'ownBiology']],
    ['author=professionals', '?author=professionals', ['proNew', 'proReport']],
    ['read=true', '?read=true', ['ownBiology']],
    ['read=false', '?read=false', ['proNew', 'proReport', 'ownImaging']],
    ['status=superseded', '?status=superseded', ['proOld']],
    ['status=all', '?status=all', ['proNew', 'proOld', 'proReport', 'ownImaging', 'ownBiology']],
    ['filters combined', '?author=professionals&status=all&to=2024-01-01', ['proNew', 'proOld']],
  ] as const)('%s', async (_, query, expected) => {
    const page = await list(p.cookie, query);
    expect(ids(page)).toEqual(expected.map((k) => doc[k]));
    expect(page.nextCursor).toBeNull();
  });

  it('presents a replacement with what it replaces and who wrote it', async () => {
    const [newest] = (await list(p.cookie)).items;
    expect(newest).toMatchObject({
      id: doc.proNew,
      replacesId: doc.proOld,
      status: 'current',
      source: 'professional',
      author: { kind: 'professional', display: `${pro.given} ${pro.family}` },
      editable: false,
      category: 'biology',
      classCode: '10',
      type: { system: 'http://loinc.org', code: '11502-2' },
    });
  });
});

describe('GET /api/documents paging', () => {
  it('returns every document exactly once across pages, newest first', async () => {
    const p = await signedInPatient(rt);
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      tick();
      created.push(
        i % 3 === 0
          ? (await pushAsProfessional(rt, pro, p.patient)).id
          : (
              await uploaded(rt.app, p.cookie, {
                content: makeTxt(),
                contentType: 'text/plain',
                filename: `n${i}.txt`,
              })
            ).id,
      );
    }
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(p.cookie, `?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      sizes.push(page.items.length);
      seen.push(...ids(page));
      cursor = page.nextCursor;
    } while (cursor && sizes.length < 10);
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual([...created].reverse());
  });

  it('pages a filtered list without mixing in other documents', async () => {
    const p = await signedInPatient(rt);
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) {
      tick();
      mine.push((await uploaded(rt.app, p.cookie, { content: makePdf() })).id);
      tick();
      await pushAsProfessional(rt, pro, p.patient);
    }
    const first = await list(p.cookie, '?author=me&limit=2');
    const second = await list(p.cookie, `?author=me&limit=2&cursor=${first.nextCursor}`);
    const third = await list(p.cookie, `?author=me&limit=2&cursor=${second.nextCursor}`);
    expect([...ids(first), ...ids(second), ...ids(third)]).toEqual([...mine].reverse());
    expect(third.nextCursor).toBeNull();
  });
});

describe('one document', () => {
  it('GET /api/documents/:id returns its metadata', async () => {
    const p = await signedInPatient(rt);
    const content = makePdf('Compte rendu de consultation');
    tick();
    const up = await uploaded(rt.app, p.cookie, {
      content,
      filename: 'cr-consultation.pdf',
      fields: { title: 'Consultation cardiologie', date: '2025-11-03', category: 'reports' },
    });
    const meta = await get(p.cookie, up.id);
    expect(meta).toEqual({
      id: up.id,
      title: 'Consultation cardiologie',
      category: 'reports',
      classCode: null,
      type: null,
      date: '2025-11-03T00:00:00.000Z',
      receivedAt: clock.now().toISOString(),
      updatedAt: clock.now().toISOString(),
      source: 'patient',
      author: { kind: 'patient', display: `${p.patient.given} ${p.patient.family}` },
      status: 'current',
      mediaType: 'application/pdf',
      size: content.length,
      sha256: sha256(content).toString('hex'),
      read: false,
      editable: true,
      replacesId: null,
      contentUrl: `/api/documents/${up.id}/content`,
    });
  });

  it('GET /api/documents/:id/content returns the exact bytes with safe headers, and marks it read', async () => {
    const p = await signedInPatient(rt);
    const content = makePdf('Ordonnance');
    const pushed = await pushAsProfessional(rt, pro, p.patient, { content });
    expect((await get(p.cookie, pushed.id)).read).toBe(false);
    const res = await rt.app.inject({
      method: 'GET',
      url: `/api/documents/${pushed.id}/content`,
      headers: { cookie: p.cookie },
    });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(content)).toBe(true);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="${pushed.id}"`);
    expect(res.headers['content-security-policy']).toMatch(/sandbox/);
    expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(res.headers['cache-control']).toMatch(/no-store/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(Number(res.headers['content-length'])).toBe(content.length);
    expect((await get(p.cookie, pushed.id)).read).toBe(true);
    expect(ids(await list(p.cookie, '?read=true'))).toEqual([pushed.id]);
  });

  it('HEAD on the content is not a download: no read mark', async () => {
    const p = await signedInPatient(rt);
    const pushed = await pushAsProfessional(rt, pro, p.patient);
    const res = await rt.app.inject({
      method: 'HEAD',
      url: `/api/documents/${pushed.id}/content`,
      headers: { cookie: p.cookie },
    });
    expect(res.statusCode).toBe(404);
    expect((await get(p.cookie, pushed.id)).read).toBe(false);
  });

  it('PUT /api/documents/:id/read-state toggles the read state', async () => {
    const p = await signedInPatient(rt);
    const pushed = await pushAsProfessional(rt, pro, p.patient);
    for (const read of [true, false, true]) {
      const res = await rt.app.inject({
        method: 'PUT',
        url: `/api/documents/${pushed.id}/read-state`,
        headers: { cookie: p.cookie },
        payload: { read },
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json<ApiDocument>().read).toBe(read);
      expect((await get(p.cookie, pushed.id)).read).toBe(read);
    }
  });
});
