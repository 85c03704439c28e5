import { NIR_OID } from '../harness.ts';
import { fhirJson, json, type Probe, type RouteCase } from './bypass-cases.ts';

/**
 * Bypass-suite cases for the measurements routes (API and FHIR). The world holds no measurement of
 * A, so the per-entry routes are probed in A's profile (X-Carnet-Profile) with an unknown id; the
 * record-wide routes aim at A's record through X-Carnet-Profile (API) or A's INS (FHIR).
 */

const UNKNOWN = '01890000-0000-7000-8000-000000000000';
type W = Parameters<RouteCase['probes']>[0];
const inA = (w: W) => ({ 'x-carnet-profile': w.a.patient.id });
const insOfA = (w: W) => `urn:oid:${NIR_OID}|${w.a.patient.ins.matricule}`;
const weightOfA = (w: W) => ({
  resourceType: 'Observation',
  status: 'final',
  category: [
    {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }],
    },
  ],
  code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
  subject: { identifier: { system: `urn:oid:${NIR_OID}`, value: w.a.patient.ins.matricule } },
  effectiveDateTime: '2026-03-01',
  valueQuantity: { value: 70, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
});

/** A request on A's record through X-Carnet-Profile: refused as if A did not exist. */
const inProfileOfA =
  (method: string, url: string, body?: unknown): RouteCase['probes'] =>
  (w): Probe[] => {
    const payload = body === undefined ? undefined : json(body);
    return [
      {
        label: "in A's profile",
        method,
        url,
        ...(payload ? { payload: payload.payload } : {}),
        headers: { ...(payload ? payload.headers : {}), ...inA(w) },
        expect: 404,
        denial: true,
      },
    ];
  };

export const MEASUREMENT_CASES: RouteCase[] = [
  {
    route: 'GET /api/measurements/types',
    // Reference data (the type catalogue), public like /fhir/R4/metadata.
    credential: 'none',
    probes: () => [
      { label: 'types (no record data)', method: 'GET', url: '/api/measurements/types', expect: 200 },
    ],
  },
  {
    route: 'GET /api/measurements',
    credential: 'session',
    probes: inProfileOfA('GET', '/api/measurements'),
  },
  {
    route: 'POST /api/measurements',
    credential: 'session',
    probes: inProfileOfA('POST', '/api/measurements', { type: 'weight', value: 70, effective: '2026-03-01' }),
  },
  {
    route: 'GET /api/measurements/series',
    credential: 'session',
    probes: inProfileOfA('GET', '/api/measurements/series?type=weight&points=10'),
  },
  {
    route: 'GET /api/measurements/targets',
    credential: 'session',
    probes: inProfileOfA('GET', '/api/measurements/targets'),
  },
  {
    route: 'PUT /api/measurements/targets',
    credential: 'session',
    probes: inProfileOfA('PUT', '/api/measurements/targets', { targets: [{ type: 'weight', high: 80 }] }),
  },
  {
    route: 'GET /api/measurements/growth',
    credential: 'session',
    probes: inProfileOfA('GET', '/api/measurements/growth?type=weight'),
  },
  {
    route: 'PATCH /api/measurements/:id',
    credential: 'session',
    probes: inProfileOfA('PATCH', `/api/measurements/${UNKNOWN}`, { comment: 'x' }),
  },
  {
    route: 'DELETE /api/measurements/:id',
    credential: 'session',
    probes: inProfileOfA('DELETE', `/api/measurements/${UNKNOWN}`),
  },
  {
    route: 'POST /fhir/R4/Observation',
    credential: 'bearer',
    probes: (w) => [
      {
        label: 'into A without a care relationship',
        method: 'POST',
        url: '/fhir/R4/Observation',
        ...fhirJson(weightOfA(w)),
        expect: 404,
        denial: true,
        control: 201,
      },
    ],
  },
  {
    route: 'GET /fhir/R4/Observation',
    credential: 'bearer',
    probes: (w) => [
      {
        label: 'search A',
        method: 'GET',
        url: `/fhir/R4/Observation?patient.identifier=${encodeURIComponent(insOfA(w))}`,
        expect: 404,
        denial: true,
        control: 200,
      },
    ],
  },
  {
    route: 'GET /fhir/R4/Observation/:id',
    credential: 'bearer',
    probes: () => [
      {
        label: 'unknown id',
        method: 'GET',
        url: `/fhir/R4/Observation/${UNKNOWN}`,
        expect: 404,
        denial: true,
      },
    ],
  },
];
