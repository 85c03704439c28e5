import { json, type Probe, type RouteCase } from './bypass-cases.ts';
import type { World } from './bypass-world.ts';
import { profileIdsOf } from './profile-world.ts';

/**
 * Bypass-suite cases for the medical profile routes. The section routes act on the caller's own
 * record (200 with nothing of A), or "in A's profile" (X-Carnet-Profile) → 404; the entry routes
 * aim at A's own entry, A's imported entry, an unknown and a malformed id → 404.
 */

const UNKNOWN = '01890000-0000-7000-8000-000000000000';
const inA = (w: World) => ({ 'x-carnet-profile': w.a.patient.id });

/** Probes of a route naming an entry: A's entries (also from A's profile), an unknown and a malformed id. */
const entryProbes =
  (method: string, suffix: string, body?: unknown, control?: number): RouteCase['probes'] =>
  (w) => {
    const ids = profileIdsOf(w.rt);
    const payload: { payload?: string; headers?: Record<string, string> } =
      body === undefined ? {} : json(body);
    const probe = (label: string, id: string, headers: Record<string, string> = {}): Probe => ({
      label,
      method,
      url: `/api/profile/entries/${id}${suffix}`,
      ...payload,
      headers: { ...payload.headers, ...headers },
      expect: 404,
      denial: true,
    });
    return [
      { ...probe("A's entry", ids.own), ...(control ? { control } : {}) },
      probe("A's imported entry", ids.imported),
      probe("A's entry, in A's profile", ids.own, inA(w)),
      probe('unknown id', UNKNOWN),
      probe('malformed id', 'x%00y'),
    ];
  };

export const PROFILE_CASES: RouteCase[] = [
  {
    route: 'GET /api/profile',
    credential: 'session',
    probes: (w) => [
      { label: 'my profile', method: 'GET', url: '/api/profile', expect: 200, control: 200 },
      {
        label: "A's profile",
        method: 'GET',
        url: '/api/profile',
        headers: inA(w),
        expect: 404,
        denial: true,
        control: 200,
      },
    ],
  },
  {
    route: 'GET /api/profile/:section',
    credential: 'session',
    probes: (w) => [
      { label: 'my allergies', method: 'GET', url: '/api/profile/allergies', expect: 200, control: 200 },
      {
        label: "A's allergies",
        method: 'GET',
        url: '/api/profile/allergies',
        headers: inA(w),
        expect: 404,
        denial: true,
        control: 200,
      },
    ],
  },
  {
    route: 'POST /api/profile/:section/entries',
    credential: 'session',
    probes: (w) => {
      const body = json({ fields: { role: 'emergency', name: 'Intrus' } });
      return [
        {
          label: "a contact in A's profile",
          method: 'POST',
          url: '/api/profile/contacts/entries',
          ...body,
          headers: { ...body.headers, ...inA(w) },
          expect: 404,
          denial: true,
        },
      ];
    },
  },
  {
    route: 'PUT /api/profile/:section/state',
    credential: 'session',
    probes: (w) => {
      const body = json({ notConcerned: true });
      return [
        {
          label: "A's allergies, not concerned",
          method: 'PUT',
          url: '/api/profile/allergies/state',
          ...body,
          headers: { ...body.headers, ...inA(w) },
          expect: 404,
          denial: true,
        },
      ];
    },
  },
  {
    route: 'PATCH /api/profile/entries/:id',
    credential: 'session',
    probes: entryProbes('PATCH', '', { fields: { reaction: 'changed' } }),
  },
  {
    route: 'DELETE /api/profile/entries/:id',
    credential: 'session',
    probes: entryProbes('DELETE', ''),
  },
  {
    route: 'GET /api/profile/entries/:id/history',
    credential: 'session',
    probes: entryProbes('GET', '/history', undefined, 200),
  },
];
