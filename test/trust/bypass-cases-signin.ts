import { json, type Probe, type RouteCase } from './bypass-cases.ts';
import type { World } from './bypass-world.ts';

/**
 * Bypass-suite cases for activation, the second sign-in step and the security page. Activation
 * routes answer only an enrolment cookie; the security page acts on the caller's own account only
 * (another id is 404, audited as denied). No probe here may spend B's session (no successful
 * password change, no revocation of the current session).
 */

const anonymousOnly =
  (label: string, method: string, url: string, body?: unknown): RouteCase['probes'] =>
  () => [
    {
      label,
      method,
      url,
      ...(body === undefined ? {} : json(body)),
      expect: 401,
      denial: true,
    },
  ];

const own =
  (probe: Omit<Probe, 'expect'> & { expect?: number }): RouteCase['probes'] =>
  () => [{ expect: 200, ...probe }];

export const SIGNIN_CASES: RouteCase[] = [
  {
    route: 'POST /api/session/second-factor',
    credential: 'none',
    probes: anonymousOnly('a code without a pending sign-in', 'POST', '/api/session/second-factor', {
      code: '123456',
    }),
  },
  {
    route: 'POST /api/activation',
    credential: 'none',
    probes: (w: World) => [
      {
        label: "A's matricule, a made-up code and card serial",
        method: 'POST',
        url: '/api/activation',
        ...json({ code: 'AAAA-BBBB-CCCC-DDDD', matricule: w.a.patient.ins.matricule, cardSerial: 'X' }),
        expect: 401,
        denial: true,
      },
    ],
  },
  {
    route: 'GET /api/activation',
    credential: 'none',
    probes: anonymousOnly('status without an activation', 'GET', '/api/activation'),
  },
  {
    route: 'POST /api/activation/password',
    credential: 'none',
    probes: anonymousOnly('credentials without an activation', 'POST', '/api/activation/password', {
      login: 'intruder@evil.example',
      password: 'violet tandem harbour 42',
    }),
  },
  {
    route: 'POST /api/activation/totp',
    credential: 'none',
    probes: anonymousOnly('TOTP without an activation', 'POST', '/api/activation/totp'),
  },
  {
    route: 'POST /api/activation/totp/confirm',
    credential: 'none',
    probes: anonymousOnly('TOTP code without an activation', 'POST', '/api/activation/totp/confirm', {
      code: '123456',
    }),
  },
  {
    route: 'POST /api/activation/email-otp',
    credential: 'none',
    probes: anonymousOnly('e-mail factor without an activation', 'POST', '/api/activation/email-otp', {
      email: 'intruder@evil.example',
    }),
  },
  {
    route: 'POST /api/activation/email-otp/confirm',
    credential: 'none',
    probes: anonymousOnly('e-mail code without an activation', 'POST', '/api/activation/email-otp/confirm', {
      code: '123456',
    }),
  },
  {
    route: 'GET /api/account/security',
    credential: 'session',
    probes: own({ label: 'own security page', method: 'GET', url: '/api/account/security', control: 200 }),
  },
  {
    route: 'DELETE /api/account/sessions/:id',
    credential: 'session',
    probes: (w: World) => [
      {
        label: 'an id that is not one of my sessions',
        method: 'DELETE',
        url: `/api/account/sessions/${w.a.patient.id}`,
        expect: 404,
        denial: true,
      },
    ],
  },
  {
    route: 'DELETE /api/account/sessions',
    credential: 'session',
    probes: own({ label: 'my other sessions', method: 'DELETE', url: '/api/account/sessions' }),
  },
  {
    route: 'DELETE /api/account/second-factors/:id',
    credential: 'session',
    probes: (w: World) => [
      {
        label: 'an id that is not one of my factors',
        method: 'DELETE',
        url: `/api/account/second-factors/${w.a.patient.id}`,
        expect: 404,
        denial: true,
      },
    ],
  },
  {
    route: 'POST /api/account/second-factors/totp',
    credential: 'session',
    probes: own({ label: 'start my TOTP', method: 'POST', url: '/api/account/second-factors/totp' }),
  },
  {
    route: 'POST /api/account/second-factors/totp/confirm',
    credential: 'session',
    probes: own({
      label: 'a wrong TOTP code',
      method: 'POST',
      url: '/api/account/second-factors/totp/confirm',
      ...json({ code: '000000' }),
      expect: 400,
    }),
  },
  {
    route: 'POST /api/account/second-factors/email',
    credential: 'session',
    probes: own({
      label: 'my e-mail factor',
      method: 'POST',
      url: '/api/account/second-factors/email',
      ...json({ email: 'b-factor@mail.test' }),
      expect: 202,
    }),
  },
  {
    route: 'POST /api/account/second-factors/email/confirm',
    credential: 'session',
    probes: own({
      label: 'a wrong e-mail code',
      method: 'POST',
      url: '/api/account/second-factors/email/confirm',
      ...json({ code: '000000' }),
      expect: 400,
    }),
  },
  {
    route: 'POST /api/account/password',
    credential: 'session',
    probes: own({
      label: 'a wrong current password',
      method: 'POST',
      url: '/api/account/password',
      ...json({ current: 'not my password', new: 'violet tandem harbour 42' }),
      expect: 400,
    }),
  },
];
