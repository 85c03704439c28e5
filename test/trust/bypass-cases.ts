import { buildMultipart } from '../multipart.ts';
import { makePdf } from '../api/files.ts';
import { insToken } from './support.ts';
import type { ActorName, World } from './bypass-world.ts';

/**
 * The route cases of the bypass suite (bypass-routes.test.ts): for each route, the requests aimed
 * at patient A's record and what an attacker holding the right kind of credentials must get.
 */

export type Credential = 'none' | 'session' | 'bearer';

export interface Probe {
  label: string;
  method: string;
  url: string;
  payload?: unknown;
  headers?: Record<string, string>;
  /** Status for an attacker holding the route's kind of credentials (or anyone, on a public route). */
  expect: number | ((actor: ActorName) => number);
  /** True when that answer is a refusal that must be audited as 'denied'. */
  denial?: boolean | ((actor: ActorName) => boolean);
  /** Only these attackers send it (e.g. a request that would grant access to the others). */
  only?: readonly ActorName[];
  /** Status the owner (patient A, or A's GP on FHIR) gets: proves the target is live. */
  control?: number;
  /** A refusal known not to be audited as 'denied' yet (in code owned elsewhere): see 'known gaps'. */
  knownGap?: string;
}

export const DISPUTE_GAP =
  "reportAccess (access/history.ts) decides on the caller's own record, so another person's event id ends as a 'failure' row of the caller, not a 'denied' one";

export interface RouteCase {
  route: string;
  credential: Credential;
  probes(w: World): Probe[];
}

export const json = (payload: unknown) => ({
  payload: JSON.stringify(payload),
  headers: { 'content-type': 'application/json' },
});
export const fhirJson = (payload: unknown) => ({
  payload: JSON.stringify(payload),
  headers: { 'content-type': 'application/fhir+json' },
});

export const docIds = (w: World) => Object.entries(w.ids.docs);
export const hiddenDocs =
  (
    method: string,
    suffix: string,
    body?: (w: World) => ReturnType<typeof json>,
    control?: number,
  ): RouteCase['probes'] =>
  (w) =>
    docIds(w).map(([name, id]) => ({
      label: name,
      method,
      url: `/api/documents/${id}${suffix}`,
      ...(body ? body(w) : {}),
      expect: 404,
      denial: true,
      ...(control ? { control } : {}),
    }));

export const searchUrl = (w: World, extra = '') =>
  `/fhir/R4/DocumentReference?patient.identifier=${encodeURIComponent(insToken(w.a.patient))}${extra}`;

export const API_CASES: RouteCase[] = [
  {
    route: 'GET /healthz',
    credential: 'none',
    probes: () => [{ label: 'health', method: 'GET', url: '/healthz', expect: 200 }],
  },
  {
    route: 'POST /oauth/token',
    credential: 'none',
    probes: (w) => [
      {
        label: "A's GP's client with a wrong secret",
        method: 'POST',
        url: '/oauth/token',
        payload: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: w.gpOfA.clientId,
          client_secret: 'nope',
        }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        expect: 401,
        denial: true,
      },
    ],
  },
  {
    route: 'POST /api/session',
    credential: 'none',
    probes: (w) => [
      {
        label: "A's login, wrong password",
        method: 'POST',
        url: '/api/session',
        ...json({ login: w.a.login, password: 'wrong password' }),
        expect: 401,
        denial: true,
      },
    ],
  },
  {
    route: 'DELETE /api/session',
    credential: 'none',
    probes: () => [{ label: 'sign out', method: 'DELETE', url: '/api/session', expect: 204 }],
  },
  {
    route: 'GET /api/me',
    credential: 'session',
    probes: () => [{ label: 'me', method: 'GET', url: '/api/me', expect: 200, control: 200 }],
  },
  {
    route: 'GET /api/documents',
    credential: 'session',
    probes: (w) => [
      { label: 'list', method: 'GET', url: '/api/documents?status=all&limit=100', expect: 200, control: 200 },
      { label: 'from professionals', method: 'GET', url: '/api/documents?author=professionals', expect: 200 },
      {
        label: "a cursor at A's document",
        method: 'GET',
        url: `/api/documents?cursor=${Buffer.from(`2999-01-01T00:00:00.000Z|${w.ids.docs.consult}`).toString('base64url')}`,
        expect: 200,
      },
      {
        label: "acting in A's profile (X-Carnet-Profile)",
        method: 'GET',
        url: '/api/documents?status=all&limit=100',
        headers: { 'x-carnet-profile': w.a.patient.id },
        expect: 404,
        denial: true,
        control: 200,
      },
    ],
  },
  {
    route: 'POST /api/documents',
    credential: 'session',
    probes: () => {
      const { contentType, body } = buildMultipart([
        { name: 'title', value: 'Mon document' },
        { name: 'file', filename: 'a.pdf', contentType: 'application/pdf', content: makePdf() },
      ]);
      return [
        {
          label: 'upload',
          method: 'POST',
          url: '/api/documents',
          payload: body,
          headers: { 'content-type': contentType },
          expect: 201,
        },
      ];
    },
  },
  { route: 'GET /api/documents/:id', credential: 'session', probes: hiddenDocs('GET', '', undefined, 200) },
  {
    route: 'PATCH /api/documents/:id',
    credential: 'session',
    probes: hiddenDocs('PATCH', '', () => json({ title: 'Pris' })),
  },
  { route: 'DELETE /api/documents/:id', credential: 'session', probes: hiddenDocs('DELETE', '') },
  {
    route: 'GET /api/documents/:id/content',
    credential: 'session',
    probes: hiddenDocs('GET', '/content', undefined, 200),
  },
  {
    route: 'PUT /api/documents/:id/read-state',
    credential: 'session',
    probes: hiddenDocs('PUT', '/read-state', () => json({ read: true })),
  },
  {
    route: 'PUT /api/documents/:id/masked',
    credential: 'session',
    probes: hiddenDocs('PUT', '/masked', () => json({ masked: false })),
  },
  {
    route: 'POST /api/documents/:id/shares',
    credential: 'session',
    probes: hiddenDocs('POST', '/shares', (w) =>
      json({ rpps: w.pros.stranger.rpps, until: '2026-12-01T00:00:00Z' }),
    ),
  },
  {
    route: 'GET /api/disputes',
    credential: 'session',
    probes: () => [{ label: 'disputes', method: 'GET', url: '/api/disputes', expect: 200, control: 200 }],
  },
  {
    route: 'GET /api/audit-events',
    credential: 'session',
    probes: () => [
      { label: 'history', method: 'GET', url: '/api/audit-events?limit=200', expect: 200, control: 200 },
      {
        label: 'a cursor from another record',
        method: 'GET',
        url: '/api/audit-events?limit=200&cursor=99999999',
        expect: 200,
      },
    ],
  },
  {
    route: 'GET /api/audit-events/export',
    credential: 'session',
    probes: () => [
      { label: 'csv', method: 'GET', url: '/api/audit-events/export?format=csv', expect: 200, control: 200 },
      { label: 'fhir', method: 'GET', url: '/api/audit-events/export?format=fhir', expect: 200 },
    ],
  },
  {
    route: 'POST /api/audit-events/:id/disputes',
    credential: 'session',
    probes: (w) =>
      w.ids.events.map((id, i) => ({
        label: `event ${i}`,
        method: 'POST',
        url: `/api/audit-events/${id}/disputes`,
        ...json({ comment: 'Je ne connais pas ce médecin' }),
        expect: 404,
        denial: true,
        knownGap: DISPUTE_GAP,
      })),
  },
  {
    route: 'GET /api/notifications',
    credential: 'session',
    probes: () => [
      { label: 'inbox', method: 'GET', url: '/api/notifications?limit=200', expect: 200, control: 200 },
    ],
  },
  {
    route: 'PUT /api/notifications/:id/read-state',
    credential: 'session',
    probes: (w) => [
      {
        label: "A's notification",
        method: 'PUT',
        url: `/api/notifications/${w.ids.notification}/read-state`,
        ...json({ read: true }),
        expect: 404,
        denial: true,
        control: 200,
      },
    ],
  },
  {
    route: 'DELETE /api/notifications/:id',
    credential: 'session',
    probes: (w) => [
      {
        label: "A's notification",
        method: 'DELETE',
        url: `/api/notifications/${w.ids.notification}`,
        expect: 404,
        denial: true,
      },
    ],
  },
  {
    route: 'GET /api/notification-preferences',
    credential: 'session',
    probes: () => [{ label: 'read', method: 'GET', url: '/api/notification-preferences', expect: 200 }],
  },
  {
    route: 'PUT /api/notification-preferences',
    credential: 'session',
    probes: () => [
      {
        label: 'write',
        method: 'PUT',
        url: '/api/notification-preferences',
        ...json({ language: 'fr' }),
        expect: 200,
      },
    ],
  },
  {
    route: 'GET /api/privacy',
    credential: 'session',
    probes: () => [{ label: 'privacy', method: 'GET', url: '/api/privacy', expect: 200, control: 200 }],
  },
  {
    route: 'PUT /api/privacy/settings',
    credential: 'session',
    probes: () => [
      {
        label: 'settings',
        method: 'PUT',
        url: '/api/privacy/settings',
        ...json({ samuAccess: true }),
        expect: 200,
      },
    ],
  },
  {
    route: 'POST /api/privacy/rules',
    credential: 'session',
    probes: (w) => [
      {
        label: 'care team of my own',
        method: 'POST',
        url: '/api/privacy/rules',
        ...json({ kind: 'care_team', rpps: w.pros.spare.rpps }),
        expect: 201,
      },
    ],
  },
  {
    route: 'DELETE /api/privacy/rules/:id',
    credential: 'session',
    probes: (w) =>
      Object.entries(w.ids.rules).map(([name, id]) => ({
        label: name,
        method: 'DELETE',
        url: `/api/privacy/rules/${id}`,
        expect: 404,
        denial: true,
      })),
  },
  {
    route: 'GET /api/privacy/matrix',
    credential: 'session',
    probes: () => [{ label: 'matrix', method: 'GET', url: '/api/privacy/matrix', expect: 200 }],
  },
  {
    route: 'GET /api/privacy/preview',
    credential: 'session',
    probes: (w) => [
      {
        label: "as A's GP",
        method: 'GET',
        url: `/api/privacy/preview?rpps=${w.gpOfA.rpps}`,
        expect: 200,
        control: 200,
      },
      { label: 'as a nurse', method: 'GET', url: '/api/privacy/preview?profession=60', expect: 200 },
    ],
  },
  {
    route: 'GET /api/openapi.json',
    credential: 'none',
    probes: () => [{ label: 'openapi', method: 'GET', url: '/api/openapi.json', expect: 200 }],
  },
];
