import { NIR_OID } from '../harness.ts';
import type { RouteCase } from './bypass-cases.ts';

/**
 * Bypass-suite cases for the synthesis routes: the PDF and the Bundle of A's record through
 * X-Carnet-Profile (API), and Patient/$summary by A's INS (FHIR; A's GP gets it).
 */

type W = Parameters<RouteCase['probes']>[0];
const inProfileOfA = (w: W) => ({ 'x-carnet-profile': w.a.patient.id });
const insOfA = (w: W) => `urn:oid:${NIR_OID}|${w.a.patient.ins.matricule}`;

export const SYNTHESIS_CASES: RouteCase[] = [
  {
    route: 'POST /api/synthesis',
    credential: 'session',
    probes: (w) => [
      {
        label: "A's record",
        method: 'POST',
        url: '/api/synthesis',
        payload: JSON.stringify({ sections: ['allergies', 'measurements', 'vaccinations'] }),
        headers: { 'content-type': 'application/json', ...inProfileOfA(w) },
        expect: 404,
        denial: true,
      },
    ],
  },
  {
    route: 'GET /api/synthesis/fhir',
    credential: 'session',
    probes: (w) => [
      {
        label: "A's record",
        method: 'GET',
        url: '/api/synthesis/fhir',
        headers: inProfileOfA(w),
        expect: 404,
        denial: true,
      },
    ],
  },
  {
    route: 'GET /fhir/R4/Patient/$summary',
    credential: 'bearer',
    probes: (w) => [
      {
        label: 'summary of A',
        method: 'GET',
        url: `/fhir/R4/Patient/$summary?identifier=${encodeURIComponent(insOfA(w))}`,
        expect: 404,
        denial: true,
        control: 200,
      },
    ],
  },
];
