import { json, type RouteCase } from './bypass-cases.ts';

/**
 * Bypass-suite case for the FHIR Bundle import (POST /api/profile/import): an attacker may import
 * into their own record only; aiming at A's record through X-Carnet-Profile is refused (404, audited).
 */

const bundle = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    {
      fullUrl: 'urn:uuid:0b3c1d2e-0000-4000-8000-000000000001',
      resource: {
        resourceType: 'AllergyIntolerance',
        code: { text: 'Intrus' },
        patient: { reference: 'Patient/a' },
      },
    },
  ],
};

export const IMPORT_CASES: RouteCase[] = [
  {
    route: 'POST /api/profile/import',
    credential: 'session',
    probes: (w) => {
      const body = json(bundle);
      return [
        {
          label: "a bundle into A's profile",
          method: 'POST',
          url: '/api/profile/import',
          ...body,
          headers: { ...body.headers, 'x-carnet-profile': w.a.patient.id },
          expect: 404,
          denial: true,
        },
      ];
    },
  },
];
