import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteDocument, downloadDocument, getDocument } from '../../src/modules/documents/index.ts';
import { createTestRuntime, seedProfessional, tokenFor, type TestRuntime } from '../harness.ts';
import { makePdf } from './files.ts';
import {
  actorFor,
  auditRows,
  expectApiError,
  pushAsProfessional,
  signedInPatient,
  storageSnapshot,
  uploaded,
  type ApiAuditEvent,
  type ApiDocument,
  type ApiPatient,
  type SeededProfessional,
} from './support.ts';

/**
 * One person's record is invisible to everyone else: another patient gets 404 (never 403, never a
 * hint that the document exists), and every refusal is on the audit trail as 'denied'.
 */

let rt: TestRuntime;
let a: ApiPatient;
let b: ApiPatient;
let pro: SeededProfessional;
let bOwn: ApiDocument;
let bFromPro: string;

beforeAll(async () => {
  rt = await createTestRuntime();
  [a, b] = [await signedInPatient(rt), await signedInPatient(rt)];
  pro = await seedProfessional(rt.ctx);
  bOwn = await uploaded(rt.app, b.cookie, { content: makePdf(), fields: { title: 'Secret de B' } });
  bFromPro = (await pushAsProfessional(rt, pro, b.patient)).id;
});
afterAll(async () => {
  await rt?.close();
});

const ATTEMPTS = [
  { name: 'see', method: 'GET', suffix: '', action: 'read' },
  { name: 'download', method: 'GET', suffix: '/content', action: 'read' },
  { name: 'edit', method: 'PATCH', suffix: '', payload: { title: 'Pris par A' }, action: 'update' },
  { name: 'mark read', method: 'PUT', suffix: '/read-state', payload: { read: true }, action: 'read' },
  { name: 'delete', method: 'DELETE', suffix: '', action: 'delete' },
] as const;

describe("patient A on patient B's documents", () => {
  it.each(
    ATTEMPTS.flatMap(
      (attempt) =>
        [
          [attempt.name, 'an upload of B', attempt, () => bOwn.id],
          [attempt.name, 'a document a professional gave B', attempt, () => bFromPro],
        ] as const,
    ),
  )(
    'cannot %s %s: 404 exactly as for a missing id, and a denial on the trail',
    async (_, __, attempt, target) => {
      const id = target();
      const send = (docId: string) =>
        rt.app.inject({
          method: attempt.method,
          url: `/api/documents/${docId}${attempt.suffix}`,
          headers: { cookie: a.cookie },
          ...('payload' in attempt ? { payload: attempt.payload } : {}),
        });
      const before = await storageSnapshot(rt);
      const deniedBefore = await auditRows(rt, { entityId: id, outcome: 'denied' });
      const res = await send(id);
      expectApiError(res, 404, 'not_found');
      const missing = await send('0190f2b4-0000-7000-8000-000000000000');
      expect(res.body).toBe(missing.body);
      expect(await storageSnapshot(rt)).toEqual(before);

      const denied = (await auditRows(rt, { entityId: id, outcome: 'denied' })).slice(deniedBefore.length);
      expect(denied).toHaveLength(1);
      expect(denied[0]).toMatchObject({
        patient_id: b.patient.id,
        actor_kind: 'patient',
        actor_id: a.patient.id,
        action: attempt.action,
        outcome: 'denied',
        basis: null,
      });
    },
  );

  it("leaves B's documents as they were", async () => {
    const res = await rt.app.inject({
      method: 'GET',
      url: '/api/documents?status=all',
      headers: { cookie: b.cookie },
    });
    const items = res.json<{ items: ApiDocument[] }>().items;
    expect(items.map((d) => [d.id, d.title, d.read])).toEqual([
      [bFromPro, 'Bilan sanguin', false],
      [bOwn.id, 'Secret de B', false],
    ]);
    expect(existsSync(join(rt.dataDir, 'blobs', 'docs', b.patient.id, bOwn.id))).toBe(true);
  });

  it("does not list B's documents", async () => {
    for (const query of ['', '?status=all', '?author=professionals', '?author=me']) {
      const res = await rt.app.inject({
        method: 'GET',
        url: `/api/documents${query}`,
        headers: { cookie: a.cookie },
      });
      expect(res.json<{ items: ApiDocument[] }>().items).toEqual([]);
    }
  });

  it("does not show B's audit events", async () => {
    const bEventIds = new Set((await auditRows(rt, { patientId: b.patient.id })).map((r) => r.id));
    expect(bEventIds.size).toBeGreaterThan(0);
    const res = await rt.app.inject({
      method: 'GET',
      url: '/api/audit-events?limit=200',
      headers: { cookie: a.cookie },
    });
    expect(res.statusCode).toBe(200);
    const events = res.json<{ items: ApiAuditEvent[] }>().items;
    expect(events.length).toBeGreaterThan(0);
    expect(events.filter((e) => bEventIds.has(e.id))).toEqual([]);
    expect(events.filter((e) => e.entity.id === bOwn.id || e.entity.id === bFromPro)).toEqual([]);
  });
});

describe("another person's attempt in the history", () => {
  it('is shown to the owner without naming who tried', async () => {
    const probe = await rt.app.inject({
      method: 'GET',
      url: `/api/documents/${bOwn.id}`,
      headers: { cookie: a.cookie },
    });
    expect(probe.statusCode).toBe(404);
    const res = await rt.app.inject({
      method: 'GET',
      url: '/api/audit-events?limit=200',
      headers: { cookie: b.cookie },
    });
    const attempts = res
      .json<{ items: ApiAuditEvent[] }>()
      .items.filter((e) => e.entity.id === bOwn.id && e.outcome === 'denied');
    expect(attempts.length).toBeGreaterThan(0);
    for (const e of attempts) {
      expect(e.actor).toEqual({ kind: 'patient', display: 'Une autre personne', id: null });
      expect(JSON.stringify(e)).not.toContain(a.patient.id);
    }
  });
});

describe('refusals that the person may know about', () => {
  it.each(['PATCH', 'DELETE'] as const)(
    "%s on a professional's document is a 403 with its reason, and a denial on the trail",
    async (method) => {
      const before = await auditRows(rt, { entityId: bFromPro, outcome: 'denied' });
      const res = await rt.app.inject({
        method,
        url: `/api/documents/${bFromPro}`,
        headers: { cookie: b.cookie },
        ...(method === 'PATCH' ? { payload: { title: 'Renamed' } } : {}),
      });
      expectApiError(res, 403, 'forbidden');
      const denied = (await auditRows(rt, { entityId: bFromPro, outcome: 'denied' })).slice(before.length);
      expect(denied).toHaveLength(1);
      expect(denied[0]).toMatchObject({
        actor_id: b.patient.id,
        action: method === 'PATCH' ? 'update' : 'delete',
      });
      expect(denied[0]?.reason).toMatch(/professionals cannot be changed or deleted/);
    },
  );
});

describe('professionals', () => {
  it('get 401 on every patient route with their bearer token', async () => {
    const token = await tokenFor(rt.app, pro);
    for (const [method, url] of [
      ['GET', '/api/me'],
      ['GET', '/api/documents'],
      ['GET', `/api/documents/${bFromPro}`],
      ['GET', `/api/documents/${bFromPro}/content`],
      ['DELETE', `/api/documents/${bFromPro}`],
      ['GET', '/api/audit-events'],
    ] as const) {
      const res = await rt.app.inject({ method, url, headers: { authorization: `Bearer ${token}` } });
      expectApiError(res, 401, 'unauthenticated');
    }
  });

  it("do not reach what they did not write: the patient's uploads, another professional's documents", async () => {
    const other = await seedProfessional(rt.ctx);
    const ctx = { ...rt.ctx, requestId: 'isolation' };
    for (const id of [bOwn.id, bFromPro]) {
      const before = await auditRows(rt, { entityId: id, outcome: 'denied' });
      await expect(getDocument(ctx, actorFor(other), id)).rejects.toMatchObject({ code: 'not_found' });
      await expect(downloadDocument(ctx, actorFor(other), id)).rejects.toMatchObject({ code: 'not_found' });
      await expect(deleteDocument(ctx, actorFor(other), id)).rejects.toMatchObject({ code: 'not_found' });
      const denied = (await auditRows(rt, { entityId: id, outcome: 'denied' })).slice(before.length);
      expect(denied.map((r) => [r.actor_kind, r.actor_id, r.action])).toEqual([
        ['professional', other.rpps, 'read'],
        ['professional', other.rpps, 'read'],
        ['professional', other.rpps, 'delete'],
      ]);
    }
    expect((await getDocument(ctx, actorFor(pro), bFromPro)).id).toBe(bFromPro);
  });
});
