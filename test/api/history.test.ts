import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAuditEvent, updateDisputeStatus, type NewAuditEvent } from '../../src/modules/audit/index.ts';
import type { fixedClock } from '../../src/platform/clock.ts';
import { createTestRuntime, type TestRuntime } from '../harness.ts';
import {
  auditRows,
  expectApiError,
  signedInPatient,
  type ApiAuditEvent,
  type ApiPatient,
} from './support.ts';

/**
 * The activity history's tabs (mine, professionals, apps), date filters, paging and downloads
 * (CSV, FHIR Bundle), and "report this access" disputes with their tracked status.
 */

const START = new Date('2026-03-02T08:00:00Z');
let rt: TestRuntime;
let clock: ReturnType<typeof fixedClock>;
let p: ApiPatient;
let q: ApiPatient;
const at: Record<string, string> = {};
const ids: Record<string, string> = {};

type Page = {
  items: Array<ApiAuditEvent & { actor: { profession?: { code: string; label: string } } }>;
  nextCursor: string | null;
};

async function get(cookie: string, url: string) {
  return rt.app.inject({ method: 'GET', url, headers: { cookie } });
}
async function history(cookie: string, query = ''): Promise<Page> {
  const res = await get(cookie, `/api/audit-events${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Page>();
}

/** An event as the gate would record it for another kind of actor, one minute after the previous. */
async function record(
  name: string,
  patientId: string,
  over: Partial<NewAuditEvent> & { actor: NewAuditEvent['actor'] },
) {
  clock.advance(60_000);
  at[name] = clock.now().toISOString();
  ids[name] = await recordAuditEvent(rt.ctx.rootDb, {
    patientId,
    recordedAt: clock.now(),
    action: 'read',
    entity: { type: 'DocumentReference', id: randomUUID() },
    outcome: 'success',
    basis: 'owner',
    reason: null,
    requestId: null,
    details: {},
    ...over,
  });
}

const pro = (id: string, display: string, professionCode: string) =>
  ({ kind: 'professional', id, display, organizationId: null, clientId: 'c1', professionCode }) as const;

beforeAll(async () => {
  rt = await createTestRuntime({ clock: START });
  clock = rt.clock as ReturnType<typeof fixedClock>;
  [p, q] = [await signedInPatient(rt), await signedInPatient(rt)];
  const id = p.patient.id;
  await record('doctor', id, { actor: pro('10101010101', 'Jean Docteur', '10'), basis: 'care-team' });
  await record('app', id, {
    actor: { kind: 'app', id: 'app-1', display: 'Appli Pas', organizationId: null, clientId: null },
    basis: 'app',
  });
  await record('parent', id, {
    actor: {
      kind: 'representative',
      id: q.patient.id,
      display: 'Paul Parent',
      organizationId: null,
      clientId: null,
    },
    basis: 'representative',
  });
  await record('nurse', id, {
    actor: pro('10202020202', '=Infirmière, "Zoé"', '60'),
    outcome: 'denied',
    basis: null,
    reason: 'no care relationship',
  });
  await record('system', id, {
    actor: { kind: 'system', id: null, display: 'Carnet', organizationId: null, clientId: null },
    action: 'update',
    basis: 'system',
  });
  clock.advance(60_000);
  at.search = clock.now().toISOString();
  expect((await get(p.cookie, '/api/documents')).statusCode).toBe(200);
  clock.advance(60_000);
});
afterAll(async () => {
  await rt?.close();
});

describe('tabs', () => {
  it('professionals: who, in what role, on what basis, with the outcome', async () => {
    const page = await history(p.cookie, '?tab=professionals');
    expect(page.items).toEqual([
      {
        id: ids.nurse,
        at: at.nurse,
        actor: {
          kind: 'professional',
          id: '10202020202',
          display: '=Infirmière, "Zoé"',
          profession: { code: '60', label: 'Infirmier' },
        },
        action: 'read',
        entity: { type: 'DocumentReference', id: expect.any(String) },
        outcome: 'denied',
        basis: null,
      },
      {
        id: ids.doctor,
        at: at.doctor,
        actor: {
          kind: 'professional',
          id: '10101010101',
          display: 'Jean Docteur',
          profession: { code: '10', label: 'Médecin' },
        },
        action: 'read',
        entity: { type: 'DocumentReference', id: expect.any(String) },
        outcome: 'success',
        basis: 'care-team',
      },
    ]);
  });

  it('apps: connected apps only', async () => {
    expect((await history(p.cookie, '?tab=apps')).items.map((e) => e.id)).toEqual([ids.app]);
  });

  it('mine: the person and their representatives', async () => {
    const items = (await history(p.cookie, '?tab=mine')).items;
    expect(new Set(items.map((e) => e.actor.kind))).toEqual(new Set(['patient', 'representative']));
    expect(items.map((e) => e.id)).toContain(ids.parent);
    expect(items.find((e) => e.id === ids.parent)?.actor).toEqual({
      kind: 'representative',
      id: q.patient.id,
      display: 'Paul Parent',
    });
    expect(items.some((e) => e.action === 'search' && e.at === at.search)).toBe(true);
  });

  it('without a tab: everything, Carnet’s own actions included', async () => {
    const items = (await history(p.cookie, '?limit=200')).items;
    expect(items.map((e) => e.id)).toEqual(
      expect.arrayContaining([ids.doctor, ids.app, ids.parent, ids.nurse, ids.system]),
    );
  });

  it('refuses an unknown tab or cursor', async () => {
    expectApiError(await get(p.cookie, '/api/audit-events?tab=family'), 400, 'invalid_input');
    expectApiError(await get(p.cookie, '/api/audit-events?cursor=abc'), 400, 'invalid_input', 'cursor');
  });
});

describe('dates and pages', () => {
  it('filters by instants, and takes a day alone as the whole day', async () => {
    const between = await history(p.cookie, `?tab=professionals&from=${at.doctor}&to=${at.nurse}`);
    expect(between.items.map((e) => e.id)).toEqual([ids.doctor]);
    const day = await history(p.cookie, '?tab=professionals&from=2026-03-02&to=2026-03-02');
    expect(day.items.map((e) => e.id)).toEqual([ids.nurse, ids.doctor]);
    expect((await history(p.cookie, '?tab=professionals&to=2026-03-01')).items).toEqual([]);
  });

  it('pages through a tab, each entry once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await history(p.cookie, `?tab=mine&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      expect(page.items.every((e) => e.actor.kind === 'patient' || e.actor.kind === 'representative')).toBe(
        true,
      );
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toContain(ids.parent);
  });
});

describe('downloads', () => {
  it('CSV: UTF-8 with BOM, a header row, quoted fields, neutralised formulas', async () => {
    const res = await get(p.cookie, '/api/audit-events/export?format=csv&tab=professionals');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="carnet-history-2026-03-02\.csv"$/,
    );
    expect([...res.rawPayload.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = res.rawPayload.toString('utf8').slice(1).split('\r\n');
    expect(lines[0]).toBe(
      'event_id,recorded_at,actor_kind,actor_profession,actor,actor_id,action,entity_type,entity_id,outcome,legal_basis,auth_method',
    );
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${ids.nurse},${at.nurse},professional,Infirmier,"'=Infirmière, ""Zoé""",10202020202,read,DocumentReference,[0-9a-f-]{36},denied,,$`,
      ),
    );
    expect(lines[2]).toMatch(
      new RegExp(
        `^${ids.doctor},${at.doctor},professional,Médecin,Jean Docteur,10101010101,read,DocumentReference,[0-9a-f-]{36},success,care-team,$`,
      ),
    );
  });

  it('FHIR: a collection Bundle of AuditEvent resources', async () => {
    const res = await get(p.cookie, '/api/audit-events/export?format=fhir&tab=apps');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    const bundle = res.json<{
      resourceType: string;
      type: string;
      entry: Array<{ resource: Record<string, unknown> }>;
    }>();
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBe('collection');
    expect(bundle.entry.map((e) => e.resource.id)).toEqual([ids.app]);
    expect(bundle.entry[0]?.resource).toMatchObject({
      resourceType: 'AuditEvent',
      action: 'R',
      outcome: '0',
      agent: [{ who: { identifier: { system: 'urn:carnet:app', value: 'app-1' }, display: 'Appli Pas' } }],
      entity: [{}, { what: { reference: `Patient/${p.patient.id}` } }],
    });
  });

  it('FHIR: names professionals by IDNPS and their profession', async () => {
    const res = await get(p.cookie, '/api/audit-events/export?format=fhir&tab=professionals');
    const bundle = res.json<{ entry: Array<{ resource: { id: string; agent: unknown[] } }> }>();
    expect(bundle.entry.find((e) => e.resource.id === ids.doctor)?.resource.agent).toEqual([
      {
        type: { coding: [expect.objectContaining({ code: 'PROV' })] },
        role: [{ coding: [expect.objectContaining({ code: '10', display: 'Médecin' })] }],
        who: {
          identifier: { system: 'urn:oid:1.2.250.1.71.4.2.1', value: '810101010101' },
          display: 'Jean Docteur',
        },
        requestor: true,
      },
    ]);
  });

  it('holds every entry of the record, and is itself on the trail', async () => {
    const res = await get(p.cookie, '/api/audit-events/export?format=fhir');
    expect(res.statusCode).toBe(200);
    const rows = await auditRows(rt, { patientId: p.patient.id });
    expect(res.json<{ entry: unknown[] }>().entry).toHaveLength(rows.length);
    expect(rows.at(-1)).toMatchObject({
      entity_type: 'AuditEvent',
      action: 'read',
      details: { export: 'fhir' },
    });
  });

  it('refuses an unknown format', async () => {
    expectApiError(await get(p.cookie, '/api/audit-events/export?format=xml'), 400, 'invalid_input');
  });
});

describe('report this access', () => {
  const report = (cookie: string, eventId: string, comment = 'Je ne connais pas ce professionnel') =>
    rt.app.inject({
      method: 'POST',
      url: `/api/audit-events/${eventId}/disputes`,
      headers: { cookie },
      payload: { comment },
    });
  const operator = { kind: 'operator', operatorId: 'op-1', display: 'Support Carnet' } as const;
  let disputeId: string;

  it('opens a dispute on an entry of my own history', async () => {
    const res = await report(p.cookie, ids.nurse as string);
    expect(res.statusCode, res.body).toBe(201);
    const d = res.json<{
      id: string;
      eventId: string;
      status: string;
      comment: string;
      history: unknown[];
    }>();
    disputeId = d.id;
    expect(d).toMatchObject({
      eventId: ids.nurse,
      status: 'open',
      comment: 'Je ne connais pas ce professionnel',
    });
    expect(d.history).toEqual([
      { at: clock.now().toISOString(), from: null, to: 'open', by: 'me', note: null },
    ]);
    const [row] = await auditRows(rt, { patientId: p.patient.id, entityId: d.id });
    expect(row).toMatchObject({
      action: 'create',
      entity_type: 'Dispute',
      outcome: 'success',
      actor_id: p.patient.id,
    });
  });

  it('answers 409 while the same entry is already reported', async () => {
    expectApiError(await report(p.cookie, ids.nurse as string), 409, 'conflict');
  });

  it('answers 404 for someone else’s entry, an unknown one, or a malformed id', async () => {
    for (const id of [ids.doctor, randomUUID(), 'not-an-id']) {
      expectApiError(await report(q.cookie, id as string), 404, 'not_found');
    }
    const qDisputes = await get(q.cookie, '/api/disputes');
    expect(qDisputes.json()).toEqual({ items: [] });
  });

  it('needs a comment', async () => {
    expectApiError(await report(p.cookie, ids.doctor as string, '   '), 400, 'invalid_input', 'comment');
  });

  it('tracks the status as operators handle it', async () => {
    clock.advance(60_000);
    await updateDisputeStatus(rt.ctx, operator, disputeId, 'in_review', 'Asked the practice');
    clock.advance(60_000);
    await updateDisputeStatus(rt.ctx, operator, disputeId, 'resolved', 'Access was part of a care episode');
    const res = await get(p.cookie, '/api/disputes');
    expect(res.statusCode).toBe(200);
    const [d] = res.json<{
      items: Array<{ id: string; status: string; history: Array<Record<string, unknown>> }>;
    }>().items;
    expect(d).toMatchObject({ id: disputeId, status: 'resolved' });
    expect(d?.history.map((h) => [h.from, h.to, h.by, h.note])).toEqual([
      [null, 'open', 'me', null],
      ['open', 'in_review', 'operator', 'Asked the practice'],
      ['in_review', 'resolved', 'operator', 'Access was part of a care episode'],
    ]);
    const trail = await auditRows(rt, { patientId: p.patient.id, entityId: disputeId });
    expect(trail.map((r) => [r.actor_kind, r.action, r.details])).toEqual([
      ['patient', 'create', expect.objectContaining({ eventId: ids.nurse })],
      ['operator', 'update', { from: 'open', to: 'in_review' }],
      ['operator', 'update', { from: 'in_review', to: 'resolved' }],
    ]);
    // Resolved: the entry may be reported again.
    expect((await report(p.cookie, ids.nurse as string)).statusCode).toBe(201);
  });

  it('refuses a move that skips back, an unknown dispute, and anyone but an operator', async () => {
    await expect(updateDisputeStatus(rt.ctx, operator, disputeId, 'open', null)).rejects.toMatchObject({
      code: 'conflict',
    });
    await expect(
      updateDisputeStatus(rt.ctx, operator, randomUUID(), 'in_review', null),
    ).rejects.toMatchObject({ code: 'not_found' });
    const notOperator = { kind: 'patient', operatorId: 'x', display: 'x' } as unknown as typeof operator;
    await expect(updateDisputeStatus(rt.ctx, notOperator, disputeId, 'rejected', null)).rejects.toMatchObject(
      { code: 'forbidden' },
    );
  });
});

describe('signed out', () => {
  it.each([
    ['GET', '/api/audit-events'],
    ['GET', '/api/audit-events/export?format=csv'],
    ['POST', `/api/audit-events/${randomUUID()}/disputes`],
    ['GET', '/api/disputes'],
  ] as const)('%s %s answers 401', async (method, url) => {
    const res = await rt.app.inject({
      method,
      url,
      ...(method === 'POST' ? { payload: { comment: 'x' } } : {}),
    });
    expectApiError(res, 401, 'unauthenticated');
  });
});
