import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { iti105Resource } from '../../src/fhir/fhir.test-support.ts';
import { TRE_A07_SYSTEM } from '../../src/modules/documents/index.ts';
import {
  createClient,
  registerOrganization,
  registerProfessional,
  type Patient,
} from '../../src/modules/identity/index.ts';
import type { fixedClock } from '../../src/platform/clock.ts';
import { makePdf, makeRpps, seedProfessional, tokenFor, type TestRuntime } from '../harness.ts';

/**
 * Helpers of the trust suites: professionals with live tokens, ITI-105 publications with a chosen
 * type and visibility labels, what a professional sees over FHIR, the privacy API, and audit rows.
 * Every call goes through real HTTP (app.inject) unless its name says otherwise.
 */

export type TestClock = ReturnType<typeof fixedClock>;
export const START = new Date('2026-03-02T08:00:00Z');
export const HOUR = 3600_000;
export const DAY = 24 * HOUR;

/** LOINC types used by the suites (classes from ASS_X16). */
export const TYPES = {
  /** CR ou fiche de consultation — class 10 (nurses may read). */
  consult: '11488-4',
  /** CR d'examens biologiques — class 10. */
  lab: '11502-2',
  /** Synthèse psychiatrique — class 11, denied to nurses by type. */
  psychiatric: '68599-0',
} as const;

export function clockOf(rt: TestRuntime): TestClock {
  return rt.clock as TestClock;
}

export interface Pro {
  id: string;
  rpps: string;
  professionCode: string;
  clientId: string;
  clientSecret: string;
  organizationId: string;
  /** A bearer token, renewed by renewToken() (tokens live 5 minutes of the test clock). */
  token: string;
}

/**
 * A professional with a client and a token; `orgKind: 'samu'` makes an emergency regulator.
 * @example const nurse = await professional(rt, '60');
 */
export async function professional(
  rt: TestRuntime,
  professionCode = '10',
  options: { orgKind?: string } = {},
): Promise<Pro> {
  let seeded: Omit<Pro, 'token'>;
  if (options.orgKind) {
    const org = await registerOrganization(rt.ctx, {
      finess: null,
      name: 'SAMU test',
      kind: options.orgKind,
    });
    const pro = await registerProfessional(rt.ctx, {
      rpps: makeRpps(),
      professionCode,
      given: 'Régulateur',
      family: 'Test',
    });
    const client = await createClient(rt.ctx, {
      organizationId: org.id,
      professionalId: pro.id,
      name: 'Logiciel de régulation',
    });
    seeded = { ...pro, ...client, organizationId: org.id };
  } else {
    seeded = await seedProfessional(rt.ctx, professionCode);
  }
  return { ...seeded, token: await tokenFor(rt.app, seeded) };
}

/** Gets a fresh token for each professional (after the clock moved past their expiry). */
export async function renewTokens(rt: TestRuntime, ...pros: Pro[]): Promise<void> {
  for (const p of pros) p.token = await tokenFor(rt.app, p);
}

export const insToken = (p: Patient): string => `urn:oid:${p.ins.oid}|${p.ins.matricule}`;

/** A unique, greppable title: the bypass suites look for it in every response body. */
export const secretTitle = (label: string): string => `${label} ${randomBytes(6).toString('hex')}`;

export interface PublishOptions {
  type?: string;
  title?: string;
  /** TRE_A07 visibility codes (INVISIBLE_PATIENT, MASQUE_PS…). */
  labels?: string[];
  replaces?: string;
}

/** ITI-105 publication by `pro` into `patient`'s record; returns the stored id. */
export async function publish(
  rt: TestRuntime,
  pro: Pro,
  patient: Patient,
  options: PublishOptions = {},
): Promise<string> {
  const res = await publishRaw(rt, pro.token, patient, options);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

export function publishResource(patient: Patient, options: PublishOptions = {}): Record<string, unknown> {
  const title = options.title ?? secretTitle('Compte rendu');
  const dr = iti105Resource(patient, makePdf(title));
  dr.type.coding = [{ system: 'http://loinc.org', code: options.type ?? TYPES.consult }];
  dr.content[0].attachment.title = title;
  if (options.labels?.length)
    dr.securityLabel = [{ coding: options.labels.map((code) => ({ system: TRE_A07_SYSTEM, code })) }];
  if (options.replaces)
    dr.relatesTo = [{ code: 'replaces', target: { reference: `DocumentReference/${options.replaces}` } }];
  return dr;
}

export function publishRaw(
  rt: TestRuntime,
  token: string,
  patient: Patient,
  options: PublishOptions = {},
): Promise<LightMyRequestResponse> {
  return rt.app.inject({
    method: 'POST',
    url: '/fhir/R4/DocumentReference',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
    payload: JSON.stringify(publishResource(patient, options)),
  });
}

interface SearchBundle {
  resourceType: string;
  total?: number;
  link: Array<{ relation: string; url: string }>;
  entry?: Array<{ resource: { id: string } }>;
}

/** ITI-67 search of the patient's documents; `extra` is appended to the query string. */
export async function search(
  rt: TestRuntime,
  token: string,
  patient: Patient,
  extra = '',
): Promise<{ res: LightMyRequestResponse; ids: string[]; next: string | undefined }> {
  const res = await rt.app.inject({
    method: 'GET',
    url: `/fhir/R4/DocumentReference?patient.identifier=${encodeURIComponent(insToken(patient))}${extra}`,
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.statusCode, res.body).toBe(200);
  const bundle = res.json<SearchBundle>();
  return {
    res,
    ids: (bundle.entry ?? []).map((e) => e.resource.id),
    next: bundle.link.find((l) => l.relation === 'next')?.url,
  };
}

/** Every id a search returns, following the next links. */
export async function searchAll(rt: TestRuntime, token: string, patient: Patient): Promise<string[]> {
  const first = await search(rt, token, patient, '&_count=100');
  const all = [...first.ids];
  let next = first.next;
  while (next) {
    const url = new URL(next);
    const res = await rt.app.inject({
      method: 'GET',
      url: `${url.pathname}${url.search}`,
      headers: { authorization: `Bearer ${token}` },
    });
    const bundle = res.json<SearchBundle>();
    all.push(...(bundle.entry ?? []).map((e) => e.resource.id));
    next = bundle.link.find((l) => l.relation === 'next')?.url;
  }
  return all;
}

/** Status of the FHIR read of a DocumentReference and of its Binary. */
export async function fhirReads(rt: TestRuntime, token: string, id: string): Promise<[number, number]> {
  const headers = { authorization: `Bearer ${token}` };
  const read = await rt.app.inject({ method: 'GET', url: `/fhir/R4/DocumentReference/${id}`, headers });
  const binary = await rt.app.inject({ method: 'GET', url: `/fhir/R4/Binary/${id}`, headers });
  return [read.statusCode, binary.statusCode];
}

/** What a professional sees of these documents: search membership and read/Binary statuses. */
export async function view(
  rt: TestRuntime,
  pro: Pro,
  patient: Patient,
  ids: Record<string, string>,
): Promise<Record<string, { listed: boolean; read: number; binary: number }>> {
  const listed = new Set(await searchAll(rt, pro.token, patient));
  const out: Record<string, { listed: boolean; read: number; binary: number }> = {};
  for (const [name, id] of Object.entries(ids)) {
    const [read, binary] = await fhirReads(rt, pro.token, id);
    out[name] = { listed: listed.has(id), read, binary };
  }
  return out;
}

export const SEEN = { listed: true, read: 200, binary: 200 } as const;
export const HIDDEN = { listed: false, read: 404, binary: 404 } as const;

// ---------------------------------------------------------------- the privacy API (patient side)

async function api(
  rt: TestRuntime,
  cookie: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  payload?: unknown,
): Promise<LightMyRequestResponse> {
  return rt.app.inject({
    method,
    url,
    headers: { cookie },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

/** POST /api/privacy/rules, expecting 201; returns the rule id. */
export async function addRule(
  rt: TestRuntime,
  cookie: string,
  rule: Record<string, unknown>,
): Promise<string> {
  const res = await api(rt, cookie, 'POST', '/api/privacy/rules', rule);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

export async function revokeRule(rt: TestRuntime, cookie: string, id: string): Promise<void> {
  const res = await api(rt, cookie, 'DELETE', `/api/privacy/rules/${id}`);
  expect(res.statusCode, res.body).toBe(204);
}

export async function putSettings(
  rt: TestRuntime,
  cookie: string,
  settings: Record<string, boolean>,
): Promise<void> {
  const res = await api(rt, cookie, 'PUT', '/api/privacy/settings', settings);
  expect(res.statusCode, res.body).toBe(200);
}

export async function setMasked(
  rt: TestRuntime,
  cookie: string,
  id: string,
  masked: boolean | null,
): Promise<void> {
  const res = await api(rt, cookie, 'PUT', `/api/documents/${id}/masked`, { masked });
  expect(res.statusCode, res.body).toBe(200);
}

/** POST /api/documents/:id/shares, expecting 201; returns the share's rule id. */
export async function shareWith(
  rt: TestRuntime,
  cookie: string,
  documentId: string,
  rpps: string,
  until: Date,
): Promise<string> {
  const res = await api(rt, cookie, 'POST', `/api/documents/${documentId}/shares`, {
    rpps,
    until: until.toISOString(),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

export { api as patientApi };

// ---------------------------------------------------------------- audit rows

export type AuditRow = Awaited<ReturnType<typeof auditSince>>[number];

/** Audit rows recorded after `seq` (exclusive), oldest first. */
export async function auditSince(rt: TestRuntime, seq: string | number) {
  return rt.ctx.rootDb
    .selectFrom('audit_events')
    .selectAll()
    .where('seq', '>', String(seq))
    .orderBy('seq', 'asc')
    .execute();
}

/** The highest audit seq so far (0 when empty). */
export async function auditMark(rt: TestRuntime): Promise<string> {
  const row = await rt.ctx.rootDb
    .selectFrom('audit_events')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return String(row?.seq ?? 0);
}

/** Runs fn and returns the audit rows it produced. */
export async function audited<T>(
  rt: TestRuntime,
  fn: () => Promise<T>,
): Promise<{ value: T; rows: AuditRow[] }> {
  const mark = await auditMark(rt);
  const value = await fn();
  return { value, rows: await auditSince(rt, mark) };
}

// ---------------------------------------------------------------- routes

/**
 * Every route the app serves, as 'METHOD /path' (read from Fastify's route tree), so that a suite
 * can fail when a route appears that it does not cover.
 */
export function registeredRoutes(app: TestRuntime['app']): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    const path = (stack[depth - 1] ?? '') + (m[2] ?? '');
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of (m[3] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      out.push(`${method} ${path}`);
    }
  }
  return out.sort();
}
