import { iti65Bundle } from '../../src/fhir/fhir.test-support.ts';
import { insToken, publishResource } from './support.ts';
import { docIds, fhirJson, searchUrl, type RouteCase } from './bypass-cases.ts';

/** The FHIR (and development page) route cases of the bypass suite; see bypass-cases.ts. */
export const FHIR_CASES: RouteCase[] = [
  {
    route: 'GET /fhir/R4/metadata',
    credential: 'none',
    probes: () => [{ label: 'capabilities', method: 'GET', url: '/fhir/R4/metadata', expect: 200 }],
  },
  ...(['POST /fhir/R4', 'POST /fhir/R4/'] as const).map((route): RouteCase => ({
    route,
    credential: 'bearer',
    // A professional may add to any record (DOMAIN §4.2): the answer names only what they sent.
    probes: (w) => [
      {
        label: 'ITI-65 into A',
        method: 'POST',
        url: route.slice(5),
        ...fhirJson(iti65Bundle(w.a.patient)),
        expect: 200,
      },
    ],
  })),
  {
    route: 'POST /fhir/R4/DocumentReference',
    credential: 'bearer',
    probes: (w) => [
      {
        label: 'ITI-105 into A',
        method: 'POST',
        url: '/fhir/R4/DocumentReference',
        ...fhirJson(publishResource(w.a.patient)),
        expect: 201,
      },
      {
        label: "replacing A's document",
        method: 'POST',
        url: '/fhir/R4/DocumentReference',
        ...fhirJson(publishResource(w.a.patient, { replaces: w.ids.docs.consult })),
        expect: 404,
        denial: true,
      },
    ],
  },
  {
    route: 'GET /fhir/R4/DocumentReference',
    credential: 'bearer',
    probes: (w) => [
      { label: 'search A', method: 'GET', url: searchUrl(w, '&_count=100'), expect: 200, control: 200 },
      {
        label: 'superseded too',
        method: 'GET',
        url: searchUrl(w, '&status=current,superseded'),
        expect: 200,
      },
      {
        label: "by A's GP as author",
        method: 'GET',
        url: searchUrl(w, `&author.identifier=${w.gpOfA.rpps}`),
        expect: 200,
      },
      {
        label: 'by type',
        method: 'GET',
        url: searchUrl(w, '&type=http://loinc.org|11488-4,11502-2'),
        expect: 200,
      },
    ],
  },
  {
    route: 'POST /fhir/R4/DocumentReference/_search',
    credential: 'bearer',
    probes: (w) => [
      {
        label: 'search A (form)',
        method: 'POST',
        url: '/fhir/R4/DocumentReference/_search',
        payload: new URLSearchParams({
          'patient.identifier': insToken(w.a.patient),
          _count: '100',
        }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        expect: 200,
      },
    ],
  },
  {
    route: 'GET /fhir/R4/DocumentReference/:id',
    credential: 'bearer',
    probes: (w) =>
      docIds(w).map(([name, id]) => ({
        label: name,
        method: 'GET',
        url: `/fhir/R4/DocumentReference/${id}`,
        expect: 404,
        denial: true,
      })),
  },
  {
    route: 'GET /fhir/R4/DocumentReference/:id/_history/:vid',
    credential: 'bearer',
    probes: (w) =>
      docIds(w).map(([name, id]) => ({
        label: name,
        method: 'GET',
        url: `/fhir/R4/DocumentReference/${id}/_history/1`,
        expect: 404,
        denial: true,
      })),
  },
  {
    route: 'DELETE /fhir/R4/DocumentReference/:id',
    credential: 'bearer',
    probes: (w) =>
      docIds(w).map(([name, id]) => ({
        label: name,
        method: 'DELETE',
        url: `/fhir/R4/DocumentReference/${id}`,
        expect: 404,
        denial: true,
      })),
  },
  {
    route: 'GET /fhir/R4/AuditEvent',
    credential: 'bearer',
    // A's traces are for professionals with GP rights on A's record (DOMAIN §5): A's GP is the control.
    probes: (w) => [
      {
        label: "A's traces",
        method: 'GET',
        url: `/fhir/R4/AuditEvent?patient.identifier=${encodeURIComponent(insToken(w.a.patient))}`,
        expect: 404,
        denial: true,
        control: 200,
      },
      {
        label: "A's traces, from a cursor",
        method: 'GET',
        url: `/fhir/R4/AuditEvent?patient.identifier=${encodeURIComponent(insToken(w.a.patient))}&_count=1&_cursor=99999999`,
        expect: 404,
        denial: true,
      },
    ],
  },
  {
    route: 'GET /fhir/R4/Binary/:id',
    credential: 'bearer',
    probes: (w) =>
      docIds(w).flatMap(([name, id]) => [
        { label: name, method: 'GET', url: `/fhir/R4/Binary/${id}`, expect: 404, denial: true },
        {
          label: `${name} as FHIR JSON`,
          method: 'GET',
          url: `/fhir/R4/Binary/${id}`,
          headers: { accept: 'application/fhir+json' },
          expect: 404,
          denial: true,
        },
      ]),
  },
  {
    route: 'POST /fhir/R4/Patient/$emergency-access',
    credential: 'bearer',
    probes: (w) => {
      const params = (reason?: string) => ({
        resourceType: 'Parameters',
        parameter: [
          {
            name: 'patient',
            valueIdentifier: { system: `urn:oid:${w.a.patient.ins.oid}`, value: w.a.patient.ins.matricule },
          },
          { name: 'mode', valueCode: 'break-glass' },
          ...(reason ? [{ name: 'reason', valueString: reason }] : []),
        ],
      });
      return [
        {
          label: 'without a reason',
          method: 'POST',
          url: '/fhir/R4/Patient/$emergency-access',
          ...fhirJson(params()),
          expect: 400,
        },
        {
          label: 'blocked, with a reason',
          method: 'POST',
          url: '/fhir/R4/Patient/$emergency-access',
          ...fhirJson(params('Patient inconscient, urgence vitale')),
          only: ['blocked'],
          expect: 404,
          denial: true,
        },
      ];
    },
  },
  {
    route: 'GET /dev/mail',
    credential: 'none',
    probes: () => [{ label: 'outbox', method: 'GET', url: '/dev/mail', expect: 200 }],
  },
  {
    route: 'GET /dev/mail/:id',
    credential: 'none',
    probes: () => [
      { label: 'a mail', method: 'GET', url: '/dev/mail/0190f2b4-0000-7000-8000-000000000000', expect: 404 },
    ],
  },
];
