import { json, type RouteCase } from './bypass-cases.ts';

/**
 * Bypass-suite cases for the lifecycle routes. None of them may change A's space: the anonymous
 * ones get A's matricule and birth date with a wrong code (one answer for every mismatch), the
 * signed-in ones aim at A's space through X-Carnet-Profile without representing A.
 */
export const LIFECYCLE_CASES: RouteCase[] = [
  {
    route: 'POST /api/opposition',
    credential: 'none',
    probes: (w) => [
      {
        label: "A's matricule and birth date, a guessed code",
        method: 'POST',
        url: '/api/opposition',
        ...json({
          code: 'AAAA-BBBB-CCCC-DDDD',
          matricule: w.a.patient.ins.matricule,
          birthDate: w.a.patient.birthDate,
        }),
        expect: 400,
        denial: true,
      },
    ],
  },
  {
    route: 'POST /api/opposition/proof',
    credential: 'none',
    probes: (w) => [
      {
        label: "a guessed reference with A's matricule and birth date",
        method: 'POST',
        url: '/api/opposition/proof',
        ...json({
          reference: 'OPP-AAAA-BBBB-CCCC-DDDD',
          matricule: w.a.patient.ins.matricule,
          birthDate: w.a.patient.birthDate,
        }),
        expect: 404,
        denial: true,
      },
    ],
  },
  {
    route: 'POST /api/account/closure',
    credential: 'session',
    probes: (w) => [
      {
        label: "close A's space as if representing A",
        method: 'POST',
        url: '/api/account/closure',
        ...json({ eraseNow: true }),
        headers: { 'content-type': 'application/json', 'x-carnet-profile': w.a.patient.id },
        expect: 404,
        denial: true,
      },
    ],
  },
  {
    route: 'POST /api/account/reopening',
    credential: 'none',
    probes: (w) => [
      {
        label: "A's matricule and birth date, a guessed code",
        method: 'POST',
        url: '/api/account/reopening',
        ...json({
          code: 'AAAA-BBBB-CCCC-DDDD',
          matricule: w.a.patient.ins.matricule,
          birthDate: w.a.patient.birthDate,
        }),
        expect: 400,
        denial: true,
      },
    ],
  },
];
