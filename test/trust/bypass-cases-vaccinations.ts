import { NIR_OID } from '../harness.ts';
import { fhirJson, json, type RouteCase } from './bypass-cases.ts';

/**
 * Bypass-suite cases for the vaccinations routes (API and FHIR). The world holds no vaccination of
 * A yet, so the per-entry routes are probed with an unknown id (and in A's profile); the record-wide
 * routes aim at A's record through X-Carnet-Profile (API) or A's INS (FHIR).
 */

const UNKNOWN = '01890000-0000-7000-8000-000000000000';
type W = Parameters<RouteCase['probes']>[0];
const inProfileOfA = (w: W) => ({ 'x-carnet-profile': w.a.patient.id });
const insOfA = (w: W) => `urn:oid:${NIR_OID}|${w.a.patient.ins.matricule}`;
const immunizationOfA = (w: W) => ({
  resourceType: 'Immunization',
  status: 'completed',
  vaccineCode: { text: 'ROR' },
  patient: { identifier: { system: `urn:oid:${NIR_OID}`, value: w.a.patient.ins.matricule } },
  occurrenceDateTime: '2024-05-02',
});
const entry = { product: { display: 'ROR' }, date: '2024-05-02' };

const perEntry =
  (method: string, suffix: string, body?: unknown): RouteCase['probes'] =>
  (w) => [
    {
      label: 'unknown id',
      method,
      url: `/api/vaccinations/${UNKNOWN}${suffix}`,
      ...(body ? json(body) : {}),
      expect: 404,
      denial: true,
    },
    {
      label: "unknown id in A's profile",
      method,
      url: `/api/vaccinations/${UNKNOWN}${suffix}`,
      ...(body ? { payload: JSON.stringify(body) } : {}),
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...inProfileOfA(w) },
      expect: 404,
      denial: true,
    },
  ];

export const VACCINATION_CASES: RouteCase[] = [
  {
    route: 'GET /api/vaccinations',
    credential: 'session',
    probes: (w) => [
      {
        label: "A's record",
        method: 'GET',
        url: '/api/vaccinations',
        headers: inProfileOfA(w),
        expect: 404,
        denial: true,
      },
    ],
  },
  {
    route: 'POST /api/vaccinations',
    credential: 'session',
    probes: (w) => [
      {
        label: "into A's record",
        method: 'POST',
        url: '/api/vaccinations',
        payload: JSON.stringify(entry),
        headers: { 'content-type': 'application/json', ...inProfileOfA(w) },
        expect: 404,
        denial: true,
      },
    ],
  },
  {
    route: 'GET /api/vaccinations/due',
    credential: 'session',
    probes: (w) => [
      {
        label: "A's due list",
        method: 'GET',
        url: '/api/vaccinations/due',
        headers: inProfileOfA(w),
        expect: 404,
        denial: true,
      },
    ],
  },
  { route: 'GET /api/vaccinations/:id', credential: 'session', probes: perEntry('GET', '') },
  {
    route: 'PATCH /api/vaccinations/:id',
    credential: 'session',
    probes: perEntry('PATCH', '', { comment: 'x' }),
  },
  { route: 'DELETE /api/vaccinations/:id', credential: 'session', probes: perEntry('DELETE', '') },
  { route: 'GET /api/vaccinations/:id/history', credential: 'session', probes: perEntry('GET', '/history') },
  {
    route: 'POST /fhir/R4/Immunization',
    credential: 'bearer',
    probes: (w) => [
      {
        label: 'into A without a care relationship',
        method: 'POST',
        url: '/fhir/R4/Immunization',
        ...fhirJson(immunizationOfA(w)),
        expect: 404,
        denial: true,
        control: 201,
      },
    ],
  },
  {
    route: 'GET /fhir/R4/Immunization',
    credential: 'bearer',
    probes: (w) => [
      {
        label: 'search A',
        method: 'GET',
        url: `/fhir/R4/Immunization?patient.identifier=${encodeURIComponent(insOfA(w))}`,
        expect: 404,
        denial: true,
        control: 200,
      },
    ],
  },
  {
    route: 'GET /fhir/R4/Immunization/:id',
    credential: 'bearer',
    probes: () => [
      {
        label: 'unknown id',
        method: 'GET',
        url: `/fhir/R4/Immunization/${UNKNOWN}`,
        expect: 404,
        denial: true,
      },
    ],
  },
];
