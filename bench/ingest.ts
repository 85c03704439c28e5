/**
 * Ingestion benchmark: FHIR ITI-105 publications (`POST /fhir/R4/DocumentReference`, a PDF inline
 * in base64) against a real server process, then the storage "floor" (bench/lib/floor.ts) on the
 * same machine, database and fsync setting.
 *
 *   npm run bench -- ingest [--backend pglite|postgres] [--docs 1000] [--size 102400]
 *                           [--concurrency 16] [--warmup 50] [--profile <dir>]
 *
 * --backend defaults to postgres when a server answers on CARNET_TEST_PG_URL (127.0.0.1:5432).
 * --profile writes a V8 CPU profile of the server to <dir> and prints where its time went.
 * The last line of stdout is the result:
 *   {"bench":"ingest","backend":…,"docs":…,"docs_per_s":…,"p50_ms":…,"p99_ms":…,"floor_docs_per_s":…}
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Pool } from 'undici';
import {
  createScratchDatabase,
  fetchToken,
  isPostgresReachable,
  randomMasterKey,
  readDemo,
  removeDir,
  startServer,
  type ServerProcess,
} from '../test/server-process.ts';
import { intOption, note, parseOptions, percentile, progressBar, round } from './lib/cli.ts';
import { cpuSnapshot, describeCpu, type CpuGroups } from './lib/cpu-time.ts';
import { summariseCpuProfiles } from './lib/cpuprofile.ts';
import { documentReference, makePdf, runOidPrefix } from './lib/documents.ts';
import { floorDbPglite, floorDbPostgres, prepareFloorTable, runFloor, type FloorDb } from './lib/floor.ts';

interface Prebuilt {
  body: Buffer;
  token: string;
}

interface Outcome {
  status: number;
  ms: number;
  error?: string;
}

const PATH = '/fhir/R4/DocumentReference';

async function send(pool: Pool, doc: Prebuilt): Promise<Outcome> {
  const started = performance.now();
  try {
    const res = await pool.request({
      path: PATH,
      method: 'POST',
      headers: {
        authorization: `Bearer ${doc.token}`,
        'content-type': 'application/fhir+json',
        accept: 'application/fhir+json',
      },
      body: doc.body,
    });
    const text = await res.body.text();
    const ms = performance.now() - started;
    return res.statusCode === 201
      ? { status: 201, ms }
      : { status: res.statusCode, ms, error: text.slice(0, 500) };
  } catch (err) {
    return {
      status: 0,
      ms: performance.now() - started,
      error: err instanceof Error ? err.message : String(err),
    };
  }
}

/** Sends every document with `concurrency` workers; latencies in send order of completion. */
async function sendAll(
  pool: Pool,
  docs: Prebuilt[],
  concurrency: number,
  onDone: () => void,
): Promise<{ outcomes: Outcome[]; seconds: number }> {
  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < docs.length) {
      const doc = docs[next++] as Prebuilt;
      outcomes.push(await send(pool, doc));
      onDone();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { outcomes, seconds: (performance.now() - started) / 1000 };
}

function failIfErrors(phase: string, outcomes: Outcome[]): void {
  const failed = outcomes.filter((o) => o.status !== 201);
  if (failed.length === 0) return;
  const sample = failed.slice(0, 3).map((o) => `  HTTP ${o.status}: ${o.error ?? ''}`);
  throw new Error(
    `${phase}: ${failed.length} of ${outcomes.length} publications failed\n${sample.join('\n')}`,
  );
}

async function prebuild(
  count: number,
  size: number,
  oidPrefix: string,
  patients: Array<{ ins: string; insOid: string }>,
  tokens: string[],
): Promise<Prebuilt[]> {
  const out: Prebuilt[] = [];
  for (let i = 0; i < count; i++) {
    const patient = patients[i % patients.length] as { ins: string; insOid: string };
    const resource = documentReference({
      masterIdentifier: `urn:oid:${oidPrefix}.${i + 1}`,
      patient,
      pdf: makePdf(size, `Bench document ${i + 1}`),
    });
    out.push({ body: Buffer.from(JSON.stringify(resource)), token: tokens[i % tokens.length] as string });
  }
  return out;
}

export async function run(args: string[]): Promise<void> {
  const opts = parseOptions(args, ['backend', 'docs', 'size', 'concurrency', 'warmup', 'profile']);
  const docs = intOption(opts, 'docs', 1000);
  const size = intOption(opts, 'size', 102_400);
  const concurrency = intOption(opts, 'concurrency', 16);
  const warmup = opts.warmup === '0' ? 0 : intOption(opts, 'warmup', 50);
  const backend = opts.backend ?? ((await isPostgresReachable()) ? 'postgres' : 'pglite');
  if (backend !== 'postgres' && backend !== 'pglite') throw new Error('--backend must be pglite or postgres');
  const profileDir = opts.profile ? resolve(opts.profile) : undefined;

  const cleanups: Array<() => Promise<void> | void> = [];
  const cleanUp = async (): Promise<void> => {
    for (const c of cleanups.reverse())
      await Promise.resolve(c()).catch((err: unknown) => note(`cleanup: ${String(err)}`));
    cleanups.length = 0;
  };
  const onSignal = (): void => void cleanUp().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const dataDir = mkdtempSync(join(tmpdir(), 'carnet-bench-'));
    cleanups.push(() => removeDir(dataDir));
    const env: Record<string, string> = {
      LOG_LEVEL: 'warn',
      CARNET_DEMO: 'true',
      CARNET_TOKEN_TTL_SECONDS: '3600',
    };
    if (process.env.CARNET_BLOB_FSYNC) env.CARNET_BLOB_FSYNC = process.env.CARNET_BLOB_FSYNC;
    // API nodes and workers can be separate processes in production (CARNET_WORKERS=false on API nodes).
    if (process.env.CARNET_WORKERS) env.CARNET_WORKERS = process.env.CARNET_WORKERS;
    let databaseUrl: string | undefined;
    let databaseName: string | undefined;
    if (backend === 'postgres') {
      const scratch = await createScratchDatabase('carnet_bench');
      cleanups.push(() => scratch.drop());
      databaseUrl = scratch.url;
      databaseName = scratch.name;
      Object.assign(env, { DATABASE_URL: scratch.url, CARNET_MASTER_KEY: randomMasterKey() });
    }
    // The server's own default (config.ts): fsync with PostgreSQL, not with PGlite.
    const fsync = env.CARNET_BLOB_FSYNC
      ? ['true', '1', 'yes'].includes(env.CARNET_BLOB_FSYNC)
      : backend === 'postgres';
    if (profileDir) mkdirSync(profileDir, { recursive: true });
    note(
      `ingest: backend ${backend}, ${docs} docs of ${size} bytes, concurrency ${concurrency}, blob fsync ${fsync}`,
    );

    const server: ServerProcess = await startServer({
      dataDir,
      env,
      ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
      timeoutMs: 60_000,
    });
    cleanups.push(() => server.kill9().then(() => undefined));
    const demo = readDemo(dataDir);
    const tokens = await Promise.all(
      demo.professionals.map((p) => fetchToken(server.url, p.clientId, p.clientSecret)),
    );
    note(
      `server up at ${server.url} (pid ${server.pid}); ${tokens.length} professional tokens, ${demo.patients.length} patients`,
    );

    const oid = runOidPrefix();
    const t0 = performance.now();
    const warm = await prebuild(warmup, size, `${oid}.1`, demo.patients, tokens);
    const measured = await prebuild(docs, size, `${oid}.2`, demo.patients, tokens);
    note(
      `built ${warmup + docs} request bodies (${round((measured[0]?.body.length ?? 0) / 1024)} KiB each) in ${round((performance.now() - t0) / 1000, 2)} s`,
    );

    const pool = new Pool(server.url, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
    cleanups.push(() => pool.destroy());
    if (warmup > 0) {
      const bar = progressBar('warm-up', warmup);
      const w = await sendAll(pool, warm, concurrency, () => bar.tick());
      bar.done();
      failIfErrors('warm-up', w.outcomes);
    }
    note(
      `load average before the measured run: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const groups: CpuGroups = {
      pids: { server: server.pid },
      self: true,
      ...(databaseName ? { postgresDatabase: databaseName } : {}),
    };
    const cpuBefore = cpuSnapshot(groups);
    const bar = progressBar('ingest ', docs);
    const m = await sendAll(pool, measured, concurrency, () => bar.tick());
    bar.done();
    note(describeCpu(cpuBefore, cpuSnapshot(groups), docs));
    failIfErrors('ingest', m.outcomes);
    const latencies = m.outcomes.map((o) => o.ms).sort((a, b) => a - b);
    const docsPerS = docs / m.seconds;
    note(
      `ingest: ${round(docsPerS)} docs/s, p50 ${round(percentile(latencies, 50), 2)} ms, p99 ${round(percentile(latencies, 99), 2)} ms, max ${round(latencies.at(-1) ?? 0, 2)} ms`,
    );

    await pool.close();
    const status = await server.stop();
    if (status.code !== 0) note(`server stopped with code ${status.code} signal ${status.signal}`);
    if (profileDir) {
      note(`CPU profile of the server written to ${profileDir}`);
      note(summariseCpuProfiles(profileDir, { from: /\/src\/fhir\//, items: warmup + docs }));
    }

    // The floor, on the same database (the server is stopped: nothing else competes).
    let db: FloorDb;
    if (backend === 'postgres') db = floorDbPostgres(databaseUrl as string, concurrency);
    else db = await floorDbPglite(join(dataDir, 'db'));
    cleanups.push(() => db.close());
    const [patient] = await db.query<{ id: string }>('select id from patients order by created_at limit 1');
    if (!patient) throw new Error('no patient in the database');
    await prepareFloorTable(db);
    const floorDir = mkdtempSync(join(tmpdir(), 'carnet-floor-'));
    cleanups.push(() => removeDir(floorDir));
    const floorBase = { db, patientId: patient.id, blobDir: floorDir, size, concurrency, fsync };
    if (warmup > 0) await runFloor({ ...floorBase, docs: warmup });
    const floorGroups: CpuGroups = {
      pids: {},
      self: true,
      ...(databaseName ? { postgresDatabase: databaseName } : {}),
    };
    const floorCpuBefore = cpuSnapshot(floorGroups);
    const floorBar = progressBar('floor  ', docs);
    const floor = await runFloor({ ...floorBase, docs, onDone: () => floorBar.tick() });
    floorBar.done();
    note(describeCpu(floorCpuBefore, cpuSnapshot(floorGroups), docs));
    note(
      `floor: ${round(floor.docsPerSecond)} docs/s; server at ${round((100 * docsPerS) / floor.docsPerSecond)} % of the floor`,
    );

    await cleanUp();
    const result = {
      bench: 'ingest',
      backend,
      docs,
      docs_per_s: round(docsPerS),
      p50_ms: round(percentile(latencies, 50), 2),
      p99_ms: round(percentile(latencies, 99), 2),
      floor_docs_per_s: round(floor.docsPerSecond),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await cleanUp();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
