import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { ProfessionalActor } from '../../src/modules/access/index.ts';
import { ingestSubmission, type DocumentMeta } from '../../src/modules/documents/index.ts';
import type { Patient } from '../../src/modules/identity/index.ts';
import {
  makePdf,
  seedPatient,
  sessionCookieFor,
  seedProfessional,
  createTestRuntime,
  type TestRuntime,
} from '../harness.ts';
import { buildMultipart } from '../multipart.ts';
import type { fixedClock } from '../../src/platform/clock.ts';

/** Shared helpers of the HTTP suites: signed-in patients, professional pushes, uploads, and what was written. */

export const PASSWORD = 'correct horse battery staple';

export interface ApiPatient {
  patient: Patient;
  login: string;
  cookie: string;
}

/** A new patient with a login, signed in through POST /api/session. */
export async function signedInPatient(rt: TestRuntime): Promise<ApiPatient> {
  const login = `p-${randomBytes(5).toString('hex')}@test.carnet`;
  const patient = await seedPatient(rt.ctx, { login, password: PASSWORD });
  return { patient, login, cookie: await sessionCookieFor(rt.app, login, PASSWORD) };
}

export type SeededProfessional = Awaited<ReturnType<typeof seedProfessional>>;

/** The actor the bearer-token path would build for this professional. */
export function actorFor(pro: SeededProfessional): ProfessionalActor {
  return {
    kind: 'professional',
    professionalId: pro.id,
    rpps: pro.rpps,
    professionCode: pro.professionCode,
    specialtyCode: pro.specialtyCode,
    display: `${pro.given} ${pro.family}`,
    organizationId: pro.organizationId,
    clientId: pro.clientId,
  };
}

/** A professional adds a lab report (PDF) to a patient's record through the ingestion service. */
export async function pushAsProfessional(
  rt: TestRuntime,
  pro: SeededProfessional,
  patient: Patient,
  options: { title?: string; date?: string; content?: Buffer; replacesId?: string } = {},
): Promise<DocumentMeta> {
  const result = await ingestSubmission({ ...rt.ctx, requestId: 'test-push' }, actorFor(pro), {
    patient,
    documents: [
      {
        masterIdentifier: `urn:uuid:${crypto.randomUUID()}`,
        mediaType: 'application/pdf',
        content: options.content ?? makePdf('Résultats biologie'),
        type: { system: 'http://loinc.org', code: '11502-2' },
        title: options.title ?? 'Bilan sanguin',
        ...(options.date ? { documentDate: options.date } : {}),
        ...(options.replacesId ? { replacesId: options.replacesId } : {}),
        fieldPrefix: 'DocumentReference',
      },
    ],
  });
  const doc = result.documents[0];
  if (!doc) throw new Error('push produced no document');
  return doc.meta;
}

export interface UploadOptions {
  content: Buffer;
  contentType?: string;
  filename?: string;
  fields?: Record<string, string>;
  headers?: Record<string, string>;
}

/** POST /api/documents as multipart/form-data. */
export function upload(
  app: FastifyInstance,
  cookie: string,
  options: UploadOptions,
): Promise<LightMyRequestResponse> {
  const { contentType, body } = buildMultipart([
    ...Object.entries(options.fields ?? {}).map(([name, value]) => ({ name, value })),
    {
      name: 'file',
      filename: options.filename ?? 'document.pdf',
      contentType: options.contentType ?? 'application/pdf',
      content: options.content,
    },
  ]);
  return app.inject({
    method: 'POST',
    url: '/api/documents',
    headers: { cookie, 'content-type': contentType, ...options.headers },
    payload: body,
  });
}

/** Uploads and expects 201; returns the presented document. */
export async function uploaded(
  app: FastifyInstance,
  cookie: string,
  options: UploadOptions,
): Promise<ApiDocument> {
  const res = await upload(app, cookie, options);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<ApiDocument>();
}

/** The document shape of the patient API (document.routes.ts presentDocument). */
export interface ApiDocument {
  id: string;
  title: string;
  category: string;
  classCode: string | null;
  type: { system: string; code: string; display: string | null } | null;
  date: string;
  receivedAt: string;
  updatedAt: string;
  source: 'professional' | 'patient';
  author: { kind: 'professional' | 'patient'; display: string };
  status: 'current' | 'superseded';
  mediaType: string;
  size: number;
  sha256: string;
  read: boolean;
  editable: boolean;
  replacesId: string | null;
  contentUrl: string;
}

export interface ApiAuditEvent {
  id: string;
  at: string;
  actor: { kind: string; display: string; id: string | null };
  action: string;
  entity: { type: string; id: string | null };
  outcome: 'success' | 'denied' | 'failure';
  basis: string | null;
  method?: string;
  label?: { fr: string; en: string };
}

/** Every file under <dataDir>/blobs (temporary files included), as paths relative to it. */
export async function blobFiles(rt: TestRuntime): Promise<string[]> {
  const root = join(rt.dataDir, 'blobs');
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

export async function countDocuments(rt: TestRuntime): Promise<number> {
  const row = await rt.ctx.rootDb
    .selectFrom('documents')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** What a refused request must leave unchanged: document rows and blob files. */
export async function storageSnapshot(rt: TestRuntime): Promise<{ documents: number; blobs: string[] }> {
  return { documents: await countDocuments(rt), blobs: await blobFiles(rt) };
}

/** Asserts the API error shape `{"error":{"code","message","field?"}}` with this status and code. */
export function expectApiError(
  res: LightMyRequestResponse,
  status: number,
  code: string,
  field?: string,
): void {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json<Record<string, unknown>>();
  expect(Object.keys(body)).toEqual(['error']);
  const error = body.error as Record<string, unknown>;
  expect(error.code).toBe(code);
  expect(typeof error.message).toBe('string');
  expect((error.message as string).length).toBeGreaterThan(0);
  expect(Object.keys(error).every((k) => ['code', 'message', 'field'].includes(k))).toBe(true);
  if (field !== undefined) expect(error.field).toBe(field);
}

/** Audit rows straight from the table, newest last. */
export async function auditRows(
  rt: TestRuntime,
  where: { patientId?: string | null; entityId?: string; outcome?: 'success' | 'denied' | 'failure' } = {},
) {
  let q = rt.ctx.rootDb.selectFrom('audit_events').selectAll();
  if (where.patientId === null) q = q.where('patient_id', 'is', null);
  else if (where.patientId) q = q.where('patient_id', '=', where.patientId);
  if (where.entityId) q = q.where('entity_id', '=', where.entityId);
  if (where.outcome) q = q.where('outcome', '=', where.outcome);
  return q.orderBy('seq', 'asc').execute();
}

export type FixedClock = ReturnType<typeof fixedClock>;

/** A runtime on a fixed clock with one professional: the starting point of the vault's HTTP suites. */
export async function clockedRuntime(
  start: Date,
): Promise<{ rt: TestRuntime; clock: FixedClock; pro: SeededProfessional }> {
  const rt = await createTestRuntime({ clock: start });
  return { rt, clock: rt.clock as FixedClock, pro: await seedProfessional(rt.ctx) };
}

/** GET /api/documents as the signed-in patient (expects 200). */
export async function listDocuments(
  rt: TestRuntime,
  cookie: string,
  query = '',
): Promise<{ items: ApiDocument[]; nextCursor: string | null }> {
  const res = await rt.app.inject({ method: 'GET', url: `/api/documents${query}`, headers: { cookie } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** GET /api/documents/:id as the signed-in patient (expects 200). */
export async function getDocument(rt: TestRuntime, cookie: string, id: string): Promise<ApiDocument> {
  const res = await rt.app.inject({ method: 'GET', url: `/api/documents/${id}`, headers: { cookie } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}
