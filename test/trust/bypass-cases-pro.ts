import type { RouteCase } from './bypass-cases.ts';

const form = (fields: Record<string, string>) => ({
  payload: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});

/**
 * Bypass-suite cases for professional sign-in (OpenID Connect) and the local test provider. None
 * of these routes reads a record: what matters is that no credential of another kind (a patient's
 * session, a software's bearer token) signs anyone in as a professional, and refusals are audited.
 */
export const PRO_CASES: RouteCase[] = [
  {
    route: 'GET /pro/login',
    credential: 'none',
    probes: () => [{ label: 'start a sign-in', method: 'GET', url: '/pro/login', expect: 303 }],
  },
  {
    route: 'GET /pro/callback',
    credential: 'none',
    probes: () => [
      {
        label: 'a forged callback (no sign-in started in this browser)',
        method: 'GET',
        url: '/pro/callback?code=forged&state=forged&iss=http%3A%2F%2F127.0.0.1%3A3000%2Fdev%2Foidc',
        expect: 403,
        denial: true,
      },
    ],
  },
  {
    route: 'GET /pro/me',
    credential: 'none',
    probes: () => [
      {
        label: 'who am I, without a professional session',
        method: 'GET',
        url: '/pro/me',
        expect: 401,
        denial: true,
      },
    ],
  },
  {
    route: 'POST /pro/logout',
    credential: 'none',
    probes: () => [{ label: 'sign out', method: 'POST', url: '/pro/logout', expect: 303 }],
  },
  {
    route: 'GET /pro/',
    credential: 'none',
    probes: () => [{ label: 'the professional page', method: 'GET', url: '/pro/', expect: 200 }],
  },
  {
    route: 'GET /dev/oidc/.well-known/openid-configuration',
    credential: 'none',
    probes: () => [
      { label: 'discovery', method: 'GET', url: '/dev/oidc/.well-known/openid-configuration', expect: 200 },
    ],
  },
  {
    route: 'GET /dev/oidc/jwks',
    credential: 'none',
    probes: () => [{ label: 'keys', method: 'GET', url: '/dev/oidc/jwks', expect: 200 }],
  },
  {
    route: 'GET /dev/oidc/authorize',
    credential: 'none',
    probes: () => [
      {
        label: 'an unknown client',
        method: 'GET',
        url: '/dev/oidc/authorize?client_id=intruder&response_type=code',
        expect: 400,
      },
    ],
  },
  {
    route: 'POST /dev/oidc/authorize',
    credential: 'none',
    probes: (w) => [
      {
        label: 'an unknown client picks A’s GP',
        method: 'POST',
        url: '/dev/oidc/authorize',
        ...form({ client_id: 'intruder', rpps: w.gpOfA.rpps }),
        expect: 400,
      },
    ],
  },
  {
    route: 'POST /dev/oidc/token',
    credential: 'none',
    probes: () => [
      {
        label: 'a forged code without client authentication',
        method: 'POST',
        url: '/dev/oidc/token',
        ...form({ grant_type: 'authorization_code', code: 'forged', code_verifier: 'x', redirect_uri: 'x' }),
        expect: 401,
      },
    ],
  },
  {
    route: 'GET /dev/oidc/userinfo',
    credential: 'none',
    probes: () => [{ label: 'userinfo', method: 'GET', url: '/dev/oidc/userinfo', expect: 401 }],
  },
];
