import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { pino } from 'pino';
import { buildApp } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { createFsBlobStore } from '../src/platform/blob-store.fs.ts';
import type { BlobStore } from '../src/platform/blob-store.ts';
import { fixedClock, systemClock, type Clock } from '../src/platform/clock.ts';
import type { Ctx } from '../src/platform/context.ts';
import { masterKeyFrom } from '../src/platform/crypto.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../src/platform/db/database.ts';
import {
  createClient,
  csrfTokenFor,
  registerOrganization,
  registerPatient,
  registerProfessional,
} from '../src/modules/identity/index.ts';
import { insKey } from '../src/modules/identity/ins.ts';
import { luhnCheckDigit } from '../src/modules/identity/rpps.ts';

/**
 * Test runtime on a real database: in-memory PGlite by default, or a fresh PostgreSQL database
 * when CARNET_TEST_DB=postgres (127.0.0.1:5432, user postgres; created here and dropped at close).
 */

export const TEST_PG_URL = process.env.CARNET_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const usePostgres = process.env.CARNET_TEST_DB === 'postgres';

export interface TestRuntime {
  ctx: Ctx;
  app: FastifyInstance;
  config: Config;
  dataDir: string;
  clock: Clock;
  backend: 'pglite' | 'postgres';
  close(): Promise<void>;
}

async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `carnet_test_${Date.now()}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: `${TEST_PG_URL}/postgres` });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  return {
    url: `${TEST_PG_URL}/${name}`,
    drop: async () => {
      const c = new pg.Client({ connectionString: `${TEST_PG_URL}/postgres` });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export async function createTestRuntime(
  options: {
    clock?: Date;
    env?: Record<string, string>;
    blobs?: (dataDir: string) => Promise<BlobStore>;
  } = {},
): Promise<TestRuntime> {
  const dataDir = mkdtempSync(join(tmpdir(), 'carnet-test-'));
  const masterKey = randomBytes(32).toString('base64');
  let handle: DatabaseHandle;
  let dropDb: (() => Promise<void>) | undefined;
  let env: Record<string, string> = {
    CARNET_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    CARNET_MASTER_KEY: masterKey,
    ...options.env,
  };
  if (usePostgres) {
    const created = await createPgDatabase();
    dropDb = created.drop;
    env = { ...env, DATABASE_URL: created.url };
    handle = await openDatabase({ kind: 'postgres', url: created.url, poolSize: 10 });
  } else {
    const imagePath = process.env.CARNET_TEST_PGLITE_IMAGE;
    handle = await openDatabase({
      kind: 'pglite',
      dir: undefined,
      ...(imagePath && existsSync(imagePath) ? { image: new Blob([readFileSync(imagePath)]) } : {}),
    });
  }
  await migrateToLatest(handle.db);
  const config = loadConfig(env);
  const blobs = options.blobs
    ? await options.blobs(dataDir)
    : await createFsBlobStore({ root: join(dataDir, 'blobs'), fsync: false });
  const clock = options.clock ? fixedClock(options.clock) : systemClock;
  const ctx: Ctx = {
    db: handle.db,
    rootDb: handle.db,
    blobs,
    masterKey: masterKeyFrom(Buffer.from(masterKey, 'base64')),
    clock,
    config,
    log: pino({ level: 'silent' }),
  };
  const app = await buildApp(ctx);
  await app.ready();
  sendCsrfTokens(app, ctx);
  return {
    ctx,
    app,
    config,
    dataDir,
    clock,
    backend: handle.kind,
    close: async () => {
      await app.close();
      await blobs.close();
      await handle.close();
      await dropDb?.();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Makes `app.inject` behave like the web app: a request carrying a session cookie also carries the
 * session's X-CSRF-Token, unless the test sets that header itself (CSRF tests set it, wrong or
 * empty). The CSRF tests that need a bare request use `rawInject`.
 */
function sendCsrfTokens(app: FastifyInstance, ctx: Ctx): void {
  const raw = app.inject.bind(app);
  rawInjects.set(app, raw);
  const inject = (opts?: unknown) => {
    if (opts && typeof opts === 'object' && !Array.isArray(opts)) {
      const o = opts as { headers?: Record<string, unknown> };
      const cookie = o.headers?.cookie;
      const token =
        typeof cookie === 'string' ? /(?:^|;\s*)carnet_session=([^;]+)/.exec(cookie)?.[1] : undefined;
      if (token && o.headers && !('x-csrf-token' in o.headers)) {
        return raw({ ...o, headers: { ...o.headers, 'x-csrf-token': csrfTokenFor(ctx, token) } } as never);
      }
    }
    return opts === undefined ? raw() : raw(opts as never);
  };
  // The chained form (app.inject() without options) is not used by the suite.
  app.inject = inject as typeof app.inject;
}

const rawInjects = new WeakMap<FastifyInstance, FastifyInstance['inject']>();

/** `app.inject` without the automatic X-CSRF-Token (for the CSRF tests). */
export function rawInject(app: FastifyInstance): FastifyInstance['inject'] {
  const raw = rawInjects.get(app);
  if (!raw) throw new Error('not a test runtime app');
  return raw;
}

let seq = 0;

/** A valid NIR matricule (correct key), different on each call. */
export function makeMatricule(sex: 1 | 2 = 2): string {
  seq++;
  const serial = String((Date.now() + seq) % 1000).padStart(3, '0');
  const commune = String((seq * 7) % 1000).padStart(3, '0');
  const first13 = `${sex}8503${String(10 + (seq % 80)).padStart(2, '0')}${commune}${serial}`;
  return first13 + String(insKey(first13)).padStart(2, '0');
}

/** A valid-looking RPPS (Luhn-correct), different on each call. */
export function makeRpps(): string {
  seq++;
  const first10 = `10${String(Date.now() % 1e6).padStart(6, '0')}${String(seq % 100).padStart(2, '0')}`;
  return first10 + String(luhnCheckDigit(first10));
}

export const NIR_OID = '1.2.250.1.213.1.4.8';

export async function seedPatient(
  ctx: Ctx,
  extra: { login?: string; password?: string; birthDate?: string } = {},
) {
  const matricule = makeMatricule();
  const { patient } = await registerPatient(ctx, {
    matricule,
    oid: NIR_OID,
    given: 'Camille',
    family: 'Test',
    birthDate: extra.birthDate ?? '1985-03-14',
    sex: 'F',
    ...(extra.login ? { login: extra.login } : {}),
    ...(extra.password ? { password: extra.password } : {}),
  });
  return patient;
}

export async function seedProfessional(
  ctx: Ctx,
  professionCode = '10',
  specialtyCode: string | undefined = 'SM54',
) {
  const org = await registerOrganization(ctx, { finess: null, name: 'Cabinet test', kind: 'cabinet' });
  const rpps = makeRpps();
  const pro = await registerProfessional(ctx, {
    rpps,
    professionCode,
    ...(specialtyCode && professionCode === '10' ? { specialtyCode } : {}),
    given: 'Jean',
    family: 'Docteur',
  });
  const client = await createClient(ctx, {
    organizationId: org.id,
    professionalId: pro.id,
    name: 'Logiciel test',
  });
  return { ...pro, organizationId: org.id, ...client };
}

/** Gets a bearer token through the real token endpoint. */
export async function tokenFor(
  app: FastifyInstance,
  client: { clientId: string; clientSecret: string },
): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
    }).toString(),
  });
  if (res.statusCode !== 200) throw new Error(`token: ${res.statusCode} ${res.body}`);
  return res.json<{ access_token: string }>().access_token;
}

/** Signs a patient in through the real session endpoint; returns the Cookie header value. */
export async function sessionCookieFor(
  app: FastifyInstance,
  login: string,
  password: string,
): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/session', payload: { login, password } });
  if (res.statusCode !== 200) throw new Error(`session: ${res.statusCode} ${res.body}`);
  const c = res.cookies.find((k) => k.name === 'carnet_session');
  if (!c) throw new Error('no session cookie');
  return `carnet_session=${c.value}`;
}

/** A small but real PDF. */
export function makePdf(text = 'Compte rendu'): Buffer {
  const body = `%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n% ${text} ${randomBytes(8).toString('hex')}\ntrailer<</Root 1 0 R>>\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}
