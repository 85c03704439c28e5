import { json, type RouteCase } from './bypass-cases.ts';

/**
 * Bypass-suite cases for the family routes. No invitation exists in the world: ids are unknown or
 * name A's record, and acting "in A's profile" (X-Carnet-Profile) must give nothing of A.
 */

const UNKNOWN = '01890000-0000-7000-8000-000000000000';
const inProfileOfA = (w: Parameters<RouteCase['probes']>[0]) => ({ 'x-carnet-profile': w.a.patient.id });

const unknownInvitation =
  (method: string, suffix: string): RouteCase['probes'] =>
  (w) => [
    { label: 'unknown id', method, url: `/api/${suffix.replace(':id', UNKNOWN)}`, expect: 404, denial: true },
    {
      label: 'malformed id',
      method,
      url: `/api/${suffix.replace(':id', 'x%00y')}`,
      expect: 404,
      denial: true,
    },
    {
      label: "unknown id in A's profile",
      method,
      url: `/api/${suffix.replace(':id', UNKNOWN)}`,
      headers: inProfileOfA(w),
      expect: 404,
      denial: true,
    },
  ];

export const FAMILY_CASES: RouteCase[] = [
  {
    route: 'GET /api/profiles',
    credential: 'session',
    probes: () => [{ label: 'profiles', method: 'GET', url: '/api/profiles', expect: 200, control: 200 }],
  },
  {
    route: 'POST /api/profiles/:childId/invitations',
    credential: 'session',
    probes: (w) => [
      {
        label: "A's record as a child",
        method: 'POST',
        url: `/api/profiles/${w.a.patient.id}/invitations`,
        ...json({ role: 'legal_representative', matricule: w.b.patient.ins.matricule }),
        expect: 404,
        denial: true,
      },
    ],
  },
  {
    route: 'POST /api/caregivers/invitations',
    credential: 'session',
    probes: (w) => {
      const body = json({ matricule: w.b.patient.ins.matricule, scopes: ['documents'] });
      return [
        {
          label: "a caregiver for A, in A's profile",
          method: 'POST',
          url: '/api/caregivers/invitations',
          payload: body.payload,
          headers: { ...body.headers, ...inProfileOfA(w) },
          expect: 404,
          denial: true,
        },
      ];
    },
  },
  {
    route: 'GET /api/invitations',
    credential: 'session',
    probes: () => [
      { label: 'invitations', method: 'GET', url: '/api/invitations', expect: 200, control: 200 },
    ],
  },
  {
    route: 'POST /api/invitations/:id/accept',
    credential: 'session',
    probes: unknownInvitation('POST', 'invitations/:id/accept'),
  },
  {
    route: 'POST /api/invitations/:id/refuse',
    credential: 'session',
    probes: unknownInvitation('POST', 'invitations/:id/refuse'),
  },
  {
    route: 'DELETE /api/caregivers/:id',
    credential: 'session',
    probes: unknownInvitation('DELETE', 'caregivers/:id'),
  },
  {
    route: 'GET /api/caregivers/:id/attestation',
    credential: 'session',
    probes: unknownInvitation('GET', 'caregivers/:id/attestation'),
  },
];
