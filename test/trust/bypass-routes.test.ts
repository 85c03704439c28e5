import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_CASES, searchUrl, type RouteCase } from './bypass-cases.ts';
import { FHIR_CASES } from './bypass-cases-fhir.ts';
import { FAMILY_CASES } from './bypass-cases-family.ts';
import { LIFECYCLE_CASES } from './bypass-cases-lifecycle.ts';
import { PASSKEY_CASES } from './bypass-cases-passkeys.ts';
import { POPULATION_CASES } from './bypass-cases-population.ts';
import { PRO_CASES } from './bypass-cases-pro.ts';
import { SIGNIN_CASES } from './bypass-cases-signin.ts';
import { MEASUREMENT_CASES } from './bypass-cases-measurements.ts';
import { PROFILE_CASES } from './bypass-cases-profile.ts';
import { VACCINATION_CASES } from './bypass-cases-vaccinations.ts';
import { IMPORT_CASES } from './bypass-cases-import.ts';
import { SYNTHESIS_CASES } from './bypass-cases-synthesis.ts';
import { registeredRoutes } from './support.ts';
import {
  ATTACKERS,
  attempt,
  createWorld,
  credentialKind,
  credentialsOf,
  expectNoLeak,
  renewSessionOfB,
  type World,
} from './bypass-world.ts';

/**
 * The HTTP bypass suite: every route × every actor kind × patient A's ids. Nothing of A reaches
 * anyone else; what they may not see answers 404 (401 without valid credentials), and every
 * refusal leaves a 'denied' row on the audit trail. The route list is read from the app: a route
 * added without a case here fails the suite.
 */

const CASES: RouteCase[] = [
  ...API_CASES,
  ...FHIR_CASES,
  ...SIGNIN_CASES,
  ...PASSKEY_CASES,
  ...PRO_CASES,
  ...POPULATION_CASES,
  ...LIFECYCLE_CASES,
  ...FAMILY_CASES,
  ...PROFILE_CASES,
  ...MEASUREMENT_CASES,
  ...VACCINATION_CASES,
  ...IMPORT_CASES,
  ...SYNTHESIS_CASES,
];

let w: World;
beforeAll(async () => {
  w = await createWorld();
});
afterAll(async () => {
  await w?.rt.close();
});

describe('route coverage', () => {
  it('has a case for every route the app serves, and no stale case', () => {
    expect(CASES.map((c) => c.route).sort()).toEqual(registeredRoutes(w.rt.app));
  });
});

describe.each(CASES.map((c) => [c.route, c] as const))('%s', (_route, c) => {
  it('gives nothing of A to anyone else; refusals are 404 or 401, each on the audit trail', async () => {
    for (const actor of ATTACKERS) {
      // This suite probes access, not throttling (test/api/throttle-anonymous.test.ts does): the
      // anonymous code checks all count against A's matricule and this address, so start afresh.
      if (c.credential === 'none') await w.rt.ctx.rootDb.deleteFrom('auth_throttle').execute();
      // Built again for each actor: publications need their own identifiers.
      for (const probe of c.probes(w)) {
        if (probe.only && !probe.only.includes(actor)) continue;
        const headers = { ...probe.headers, ...credentialsOf(w, actor) };
        const payload =
          typeof probe.payload === 'string' || Buffer.isBuffer(probe.payload) ? probe.payload : undefined;
        const { res, rows } = await attempt(w, {
          method: probe.method,
          url: probe.url,
          headers,
          ...(payload === undefined ? {} : { payload }),
        });
        const label = `${probe.method} ${probe.url} [${probe.label}] by ${actor}`;
        expectNoLeak(w, res, `${probe.url}\n${String(payload ?? '')}`, label);
        const denied = rows.filter((r) => r.outcome === 'denied');
        if (c.credential !== 'none' && credentialKind(actor) !== c.credential) {
          expect(res.statusCode, `${label}: ${res.body}`).toBe(401);
          expect(
            denied.map((r) => [r.actor_kind, r.action]),
            label,
          ).toEqual([['anonymous', 'authenticate']]);
          continue;
        }
        const status = typeof probe.expect === 'function' ? probe.expect(actor) : probe.expect;
        expect(res.statusCode, `${label}: ${res.body.slice(0, 300)}`).toBe(status);
        const mustDeny = typeof probe.denial === 'function' ? probe.denial(actor) : probe.denial === true;
        if (mustDeny && !probe.knownGap)
          expect(denied.length, `${label}: no 'denied' audit row`).toBeGreaterThanOrEqual(1);
        // On A's record, others may only have searched (finding nothing of A's) or added a document.
        const granted = rows.filter((r) => r.patient_id === w.a.patient.id && r.outcome === 'success');
        expect(
          granted.filter((r) => r.action !== 'search' && r.action !== 'create'),
          label,
        ).toEqual([]);
        if (c.route === 'DELETE /api/session') await renewSessionOfB(w);
      }
    }
  });
});

describe('formerly a gap: a dispute on another record’s event', () => {
  const gaps = CASES.filter((c) => c.route === 'POST /api/audit-events/:id/disputes');
  it.each(gaps.map((c) => [c.route, c] as const))("%s: B's attempt is audited as 'denied'", async (_r, c) => {
    const [probe] = c.probes(w).filter((p) => p.knownGap);
    if (!probe) throw new Error('no known gap left');
    const { res, rows } = await attempt(w, {
      method: probe.method,
      url: probe.url,
      headers: { ...probe.headers, ...credentialsOf(w, 'patientB') },
      payload: probe.payload as string,
    });
    expect(res.statusCode).toBe(404);
    expect(rows.filter((r) => r.outcome === 'denied')).not.toEqual([]);
  });
});

describe('controls: the targets are live', () => {
  it("the owner (or A's GP over FHIR) gets what the attackers did not", async () => {
    for (const c of CASES) {
      for (const probe of c.probes(w)) {
        if (!probe.control) continue;
        const owner = c.credential === 'bearer' ? 'gpOfA' : 'patientA';
        const payload = typeof probe.payload === 'string' ? probe.payload : undefined;
        const { res } = await attempt(w, {
          method: probe.method,
          url: probe.url,
          headers: { ...probe.headers, ...credentialsOf(w, owner) },
          ...(payload === undefined ? {} : { payload }),
        });
        expect(res.statusCode, `${probe.method} ${probe.url} by ${owner}: ${res.body.slice(0, 200)}`).toBe(
          probe.control,
        );
      }
    }
    const list = await attempt(w, {
      method: 'GET',
      url: searchUrl(w, '&_count=100'),
      headers: credentialsOf(w, 'gpOfA'),
    });
    for (const id of Object.values(w.ids.docs).slice(1)) expect(list.res.body).toContain(id);
  });
});

describe("after every attempt, B's own pages", () => {
  it.each([
    '/api/audit-events?limit=200',
    '/api/audit-events/export?format=csv',
    '/api/audit-events/export?format=fhir',
    '/api/notifications',
    '/api/disputes',
    '/api/privacy',
    '/api/documents?status=all&limit=100',
  ])('%s still holds nothing of A', async (url) => {
    const { res } = await attempt(w, { method: 'GET', url, headers: credentialsOf(w, 'patientB') });
    expect(res.statusCode).toBe(200);
    expectNoLeak(w, res, '', `B ${url}`);
  });
});
