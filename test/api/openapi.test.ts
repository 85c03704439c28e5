import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, type TestRuntime } from '../harness.ts';

/**
 * GET /api/openapi.json: an OpenAPI 3 description of the patient API — every /api route, nothing
 * else (the FHIR endpoint describes itself in its CapabilityStatement). No validator dependency:
 * the structural rules that matter to a client generator are checked here.
 */

let rt: TestRuntime;
let doc: OpenApi;

interface Operation {
  summary?: string;
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: unknown }>;
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, unknown>;
}
interface OpenApi {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components?: Record<string, Record<string, unknown>>;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const API_ROUTES = [
  'post /api/session',
  'delete /api/session',
  'get /api/me',
  'get /api/documents',
  'post /api/documents',
  'get /api/documents/{id}',
  'patch /api/documents/{id}',
  'delete /api/documents/{id}',
  'get /api/documents/{id}/content',
  'put /api/documents/{id}/read-state',
  'get /api/audit-events',
  'get /api/audit-events/export',
  'post /api/audit-events/{id}/disputes',
  'get /api/disputes',
  'get /api/notifications',
  'put /api/notifications/{id}/read-state',
  'delete /api/notifications/{id}',
  'get /api/notification-preferences',
  'put /api/notification-preferences',
  'get /api/privacy',
  'put /api/privacy/settings',
  'post /api/privacy/rules',
  'delete /api/privacy/rules/{id}',
  'get /api/privacy/matrix',
  'get /api/privacy/preview',
  'put /api/documents/{id}/masked',
  'post /api/documents/{id}/shares',
];

beforeAll(async () => {
  rt = await createTestRuntime();
  const res = await rt.app.inject({ method: 'GET', url: '/api/openapi.json' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  doc = JSON.parse(res.body) as OpenApi;
});
afterAll(async () => {
  await rt?.close();
});

const operations = (): Array<[string, string, Operation]> =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => [method, path, op] as [string, string, Operation]),
  );

/** Every `$ref` string anywhere in the document. */
function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

describe('GET /api/openapi.json', () => {
  it('is an OpenAPI 3 document', () => {
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.info.title).toBeTruthy();
    expect(doc.info.version).toBeTruthy();
    expect(typeof doc.paths).toBe('object');
  });

  it('lists every /api route (other modules add theirs)', () => {
    expect(operations().map(([method, path]) => `${method} ${path}`)).toEqual(
      expect.arrayContaining(API_ROUTES),
    );
  });

  it('lists no FHIR, OAuth or health route', () => {
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/api/'))).toEqual([]);
  });

  it('gives each operation a summary, responses and its path parameters', () => {
    for (const [method, path, op] of operations()) {
      const where = `${method} ${path}`;
      expect(HTTP_METHODS, where).toContain(method);
      expect(op.summary, where).toBeTruthy();
      expect(Object.keys(op.responses).length, where).toBeGreaterThan(0);
      for (const status of Object.keys(op.responses))
        expect(status, where).toMatch(/^([1-5]\d\d|[1-5]XX|default)$/);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name).sort(), where).toEqual(templated.sort());
      for (const p of declared) expect(p.required, `${where} ${p.name}`).toBe(true);
      for (const p of op.parameters ?? [])
        expect(['query', 'header', 'path', 'cookie'], where).toContain(p.in);
    }
  });

  it('describes the JSON bodies', () => {
    for (const key of [
      'post /api/session',
      'patch /api/documents/{id}',
      'put /api/documents/{id}/read-state',
    ]) {
      const [method, path] = key.split(' ') as [string, string];
      expect(Object.keys(doc.paths[path]?.[method]?.requestBody?.content ?? {}), key).toContain(
        'application/json',
      );
    }
  });

  it('documents the list filters', () => {
    const names = (doc.paths['/api/documents']?.get?.parameters ?? []).map((p) => `${p.in}:${p.name}`);
    expect(names.sort()).toEqual(
      ['author', 'category', 'cursor', 'from', 'limit', 'read', 'status', 'to'].map((n) => `query:${n}`),
    );
  });

  it('resolves every $ref inside the document', () => {
    for (const ref of refsIn(doc)) {
      expect(ref).toMatch(/^#\//);
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>(
          (node, part) =>
            (node as Record<string, unknown> | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')],
          doc,
        );
      expect(target, ref).toBeDefined();
    }
  });

  it('is public, like any API description', async () => {
    const res = await rt.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
  });
});
