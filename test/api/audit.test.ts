import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestRuntime } from '../harness.ts';
import { makePdf } from './files.ts';
import {
  auditRows,
  pushAsProfessional,
  signedInPatient,
  uploaded,
  type ApiAuditEvent,
  type ApiPatient,
  type SeededProfessional,
  clockedRuntime,
  type FixedClock,
} from './support.ts';

/** GET /api/audit-events: every action on the record, by whom, on what basis; newest first, paged. */

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

async function history(
  cookie: string,
  query = '',
): Promise<{ items: ApiAuditEvent[]; nextCursor: string | null }> {
  const res = await rt.app.inject({ method: 'GET', url: `/api/audit-events${query}`, headers: { cookie } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

describe('the activity history', () => {
  let p: ApiPatient;
  let events: ApiAuditEvent[];
  const at: Record<string, string> = {};
  const ids: Record<string, string> = {};

  /** Runs one step a minute after the previous one and remembers when. */
  async function step(name: string, fn: () => Promise<unknown>): Promise<void> {
    clock.advance(60_000);
    at[name] = clock.now().toISOString();
    await fn();
  }

  beforeAll(async () => {
    at.signIn = clock.now().toISOString();
    p = await signedInPatient(rt);
    const inject = (method: 'GET' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: object) =>
      rt.app.inject({ method, url, headers: { cookie: p.cookie }, ...(payload ? { payload } : {}) });
    await step('ingest', async () => {
      ids.pushed = (await pushAsProfessional(rt, pro, p.patient)).id;
    });
    await step('upload', async () => {
      ids.uploaded = (await uploaded(rt.app, p.cookie, { content: makePdf() })).id;
    });
    await step('search', () => inject('GET', '/api/documents?category=biology'));
    await step('read', () => inject('GET', `/api/documents/${ids.pushed}`));
    await step('download', () => inject('GET', `/api/documents/${ids.pushed}/content`));
    await step('readState', () => inject('PUT', `/api/documents/${ids.pushed}/read-state`, { read: false }));
    await step('update', () => inject('PATCH', `/api/documents/${ids.uploaded}`, { title: 'Renamed' }));
    await step('delete', () => inject('DELETE', `/api/documents/${ids.uploaded}`));
    await step('history', async () => {
      events = (await history(p.cookie)).items;
    });
  });

  it('lists every action, newest first, with actor, action, entity and basis', () => {
    const patientActor = {
      kind: 'patient',
      id: p.patient.id,
      display: `${p.patient.given} ${p.patient.family}`,
    };
    const expected = [
      ['history', 'read', { type: 'AuditEvent', id: null }, patientActor, 'owner'],
      ['delete', 'delete', { type: 'DocumentReference', id: ids.uploaded }, patientActor, 'owner'],
      ['update', 'update', { type: 'DocumentReference', id: ids.uploaded }, patientActor, 'owner'],
      ['readState', 'read', { type: 'DocumentReference', id: ids.pushed }, patientActor, 'owner'],
      ['download', 'read', { type: 'Binary', id: ids.pushed }, patientActor, 'owner'],
      ['read', 'read', { type: 'DocumentReference', id: ids.pushed }, patientActor, 'owner'],
      ['search', 'search', { type: 'DocumentReference', id: null }, patientActor, 'owner'],
      ['upload', 'create', { type: 'DocumentReference', id: ids.uploaded }, patientActor, 'owner'],
      [
        'ingest',
        'create',
        { type: 'DocumentReference', id: ids.pushed },
        {
          kind: 'professional',
          id: pro.rpps,
          display: `${pro.given} ${pro.family}`,
          profession: { code: '10', label: 'Médecin' },
        },
        'contribution',
      ],
      ['signIn', 'authenticate', { type: 'Session', id: expect.any(String) }, patientActor, 'owner'],
    ] as const;
    expect(
      events.map((e) => ({
        at: e.at,
        action: e.action,
        entity: e.entity,
        actor: e.actor,
        basis: e.basis,
        outcome: e.outcome,
      })),
    ).toEqual(
      expected.map(([step, action, entity, actor, basis]) => ({
        at: at[step],
        action,
        entity,
        actor,
        basis,
        outcome: 'success',
      })),
    );
  });

  it('presents events without internal details', () => {
    for (const e of events) {
      // A sign-in also says how, in words (the method and the label are shown, not other details).
      const signIn = e.action === 'authenticate' ? ['label', 'method'] : [];
      expect(Object.keys(e).sort()).toEqual(
        ['action', 'actor', 'at', 'basis', 'entity', 'id', 'outcome', ...signIn].sort(),
      );
    }
    expect(events.find((e) => e.action === 'authenticate')).toMatchObject({
      method: 'password',
      label: { fr: 'Connexion (mot de passe)', en: 'Sign-in (password)' },
    });
  });

  it('filters by time', async () => {
    const page = await history(
      p.cookie,
      `?from=${encodeURIComponent(at.read ?? '')}&to=${encodeURIComponent(at.update ?? '')}`,
    );
    expect(page.items.map((e) => e.action)).toEqual(['read', 'read', 'read']);
  });
});

describe('paging the history', () => {
  it('returns every event exactly once across pages', async () => {
    const p = await signedInPatient(rt);
    for (let i = 0; i < 4; i++) {
      clock.advance(1000);
      await pushAsProfessional(rt, pro, p.patient);
      await rt.app.inject({ method: 'GET', url: '/api/documents', headers: { cookie: p.cookie } });
    }
    const seen: ApiAuditEvent[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await history(p.cookie, `?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items);
      sizes.push(page.items.length);
      cursor = page.nextCursor;
    } while (cursor && sizes.length < 10);

    // The sign-in, 8 actions, then the first page's own read of the history (later reads are newer
    // than the cursor).
    expect(sizes).toEqual([3, 3, 3, 1]);
    expect(new Set(seen.map((e) => e.id)).size).toBe(10);
    const rows = await auditRows(rt, { patientId: p.patient.id });
    const firstPageRead = rows.find((r) => r.entity_type === 'AuditEvent');
    expect(seen.map((e) => e.id)).toEqual(
      rows
        .filter((r) => Number(r.seq) <= Number(firstPageRead?.seq))
        .map((r) => r.id)
        .reverse(),
    );
  });
});
