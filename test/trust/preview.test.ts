import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePdf } from '../api/files.ts';
import { signedInPatient, uploaded, type ApiPatient } from '../api/support.ts';
import { createTestRuntime, type TestRuntime } from '../harness.ts';
import {
  addRule,
  audited,
  DAY,
  fhirReads,
  patientApi,
  professional,
  publish,
  searchAll,
  setMasked,
  shareWith,
  START,
  TYPES,
  type Pro,
} from './support.ts';

/**
 * "See my record as Dr X would" (GET /api/privacy/preview) is computed by the access decision
 * itself: for a named professional its visible set is exactly what that professional's FHIR search
 * returns, and each item's basis is the one the gate records when they read it; for a profession,
 * it is what a member of that profession in the care team gets.
 */

let rt: TestRuntime;
let a: ApiPatient;
let author: Pro;
let cast: Record<'nurse' | 'gp' | 'blocked' | 'sharedWith' | 'stranger' | 'consented', Pro>;

interface Preview {
  viewer: { display: string; professionCode: string; rpps: string | null };
  items: Array<{ documentId: string; visible: boolean; basis: string | null; reason: string | null }>;
}

async function preview(query: string): Promise<Preview> {
  const res = await patientApi(rt, a.cookie, 'GET', `/api/privacy/preview?${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Preview>();
}

const visibleIds = (p: Preview): string[] =>
  p.items
    .filter((i) => i.visible)
    .map((i) => i.documentId)
    .sort();

beforeAll(async () => {
  rt = await createTestRuntime({ clock: START });
  a = await signedInPatient(rt);
  author = await professional(rt, '10');
  cast = {
    nurse: await professional(rt, '60'),
    gp: await professional(rt, '10'),
    blocked: await professional(rt, '10'),
    sharedWith: await professional(rt, '21'),
    stranger: await professional(rt, '10'),
    consented: await professional(rt, '40'),
  };
  await publish(rt, author, a.patient, { type: TYPES.consult });
  await publish(rt, author, a.patient, { type: TYPES.psychiatric });
  await publish(rt, author, a.patient, { type: TYPES.lab, labels: ['INVISIBLE_PATIENT'] });
  await publish(rt, author, a.patient, { type: TYPES.lab, labels: ['MASQUE_PS'] });
  const masked = await publish(rt, author, a.patient, { type: TYPES.consult });
  await setMasked(rt, a.cookie, masked, true);
  // A replaced document: superseded versions are still returned by an ITI-67 search without status.
  const old = await publish(rt, author, a.patient, { type: TYPES.lab });
  await publish(rt, author, a.patient, { type: TYPES.lab, replaces: old });
  await uploaded(rt.app, a.cookie, { content: makePdf(), fields: { title: 'Mon ordonnance' } });
  // One by the nurse herself: she sees it as its author.
  await publish(rt, cast.nurse, a.patient, { type: TYPES.consult });

  await addRule(rt, a.cookie, { kind: 'care_team', rpps: cast.nurse.rpps });
  await addRule(rt, a.cookie, { kind: 'role', rpps: cast.gp.rpps, role: 'gp' });
  await addRule(rt, a.cookie, { kind: 'care_team', rpps: cast.blocked.rpps });
  await addRule(rt, a.cookie, { kind: 'block', rpps: cast.blocked.rpps });
  await addRule(rt, a.cookie, { kind: 'consent', rpps: cast.consented.rpps, channel: 'card' });
  await shareWith(rt, a.cookie, masked, cast.sharedWith.rpps, new Date(START.getTime() + 3 * DAY));
});
afterAll(async () => {
  await rt?.close();
});

describe('preview by RPPS', () => {
  it.each(['nurse', 'gp', 'blocked', 'sharedWith', 'stranger', 'consented'] as const)(
    'the %s: the visible set is exactly what their FHIR search returns',
    async (who) => {
      const pro = cast[who];
      const p = await preview(`rpps=${pro.rpps}`);
      expect(p.viewer.rpps).toBe(pro.rpps);
      expect(p.items.length).toBeGreaterThanOrEqual(9);
      const searched = (await searchAll(rt, pro.token, a.patient)).sort();
      expect(visibleIds(p)).toEqual(searched);
      for (const hidden of p.items.filter((i) => !i.visible)) {
        expect(hidden.basis).toBeNull();
        expect(hidden.reason).toEqual(expect.any(String));
      }
    },
  );

  it('gives, for each visible item, the basis the gate records when that professional reads it', async () => {
    for (const who of ['nurse', 'gp', 'sharedWith', 'consented'] as const) {
      const pro = cast[who];
      const visible = (await preview(`rpps=${pro.rpps}`)).items.filter((i) => i.visible);
      expect(visible.length).toBeGreaterThan(0);
      for (const item of visible) {
        const { value, rows } = await audited(rt, () => fhirReads(rt, pro.token, item.documentId));
        expect(value).toEqual([200, 200]);
        expect(rows.map((r) => r.basis)).toEqual([item.basis, item.basis]);
      }
    }
  });

  it('differs between the cast as the rules say (not a vacuous equality)', async () => {
    const sets = Object.fromEntries(
      await Promise.all(
        Object.entries(cast).map(async ([who, pro]) => [who, visibleIds(await preview(`rpps=${pro.rpps}`))]),
      ),
    ) as Record<keyof typeof cast, string[]>;
    expect(sets.stranger).toEqual([]);
    expect(sets.blocked).toEqual([]);
    expect(sets.sharedWith).toHaveLength(1);
    expect(sets.gp.length).toBeGreaterThan(sets.nurse.length);
    expect(sets.nurse.length).toBeGreaterThan(1);
  });
});

describe('preview by profession', () => {
  it.each(['60', '10', '21', '40', '50', '91'])(
    'profession %s: what a member of it in the care team finds by FHIR search',
    async (code) => {
      const p = await preview(`profession=${code}`);
      expect(p.viewer).toMatchObject({ professionCode: code, rpps: null });
      const member = await professional(rt, code);
      await addRule(rt, a.cookie, { kind: 'care_team', rpps: member.rpps });
      expect(visibleIds(p)).toEqual((await searchAll(rt, member.token, a.patient)).sort());
    },
  );

  it('refuses an unknown profession and a request naming both or neither', async () => {
    for (const q of ['profession=9999', `profession=60&rpps=${cast.gp.rpps}`, '']) {
      const res = await patientApi(rt, a.cookie, 'GET', `/api/privacy/preview?${q}`);
      expect(res.statusCode, q).toBe(400);
    }
  });
});
