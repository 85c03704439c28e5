/**
 * Access-gate benchmark: a professional lists 50 documents of one patient (FHIR ITI-67 search,
 * `_count=50`) again and again, with 16 concurrent clients, against a real server process on
 * PostgreSQL. The patient has 500 documents (one in twenty masked) and 20 access rules of every
 * kind; the professional is in the care team. Every list is decided item by item by the access
 * decision and audited (one audit event per list, in the list's transaction).
 *
 *   npm run bench -- gate [--seconds 10] [--warmup 2] [--concurrency 16] [--docs 500] [--profile <dir>]
 *
 * `audit_overhead_pct` — the share of a list request spent on its audit event. The audit write
 * cannot be turned off (a read of health data fails without its event), so it is measured on its
 * own: after the run, with the server stopped, the same number of audit events as lists served
 * (same shape: a search event naming the 50 returned ids) are written by `recordAuditEvent`, the
 * function the gate calls, each in its own transaction with the same concurrency (16) on the same
 * database. Its commit is counted in full: without the insert the list's transaction would be
 * read-only and its commit would not wait for a WAL flush. The figure is that insert-and-commit's
 * median latency as a percentage of the median list latency. It leaves out the audit sealer (the
 * background hash chaining, about a second behind), whose CPU shows in the server's CPU per list.
 *
 * The last line of stdout is the result:
 *   {"bench":"gate","list_p50_ms":…,"list_p99_ms":…,"lists_per_s":…,"audit_overhead_pct":…}
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Pool } from 'undici';
import { recordAuditEvent, type NewAuditEvent } from '../src/modules/audit/index.ts';
import { openDatabase } from '../src/platform/db/database.ts';
import {
  createScratchDatabase,
  fetchToken,
  isPostgresReachable,
  randomMasterKey,
  removeDir,
  startServer,
} from '../test/server-process.ts';
import { intOption, note, parseOptions, percentile, round } from './lib/cli.ts';
import { cpuSnapshot, describeCpu, type CpuGroups } from './lib/cpu-time.ts';
import { summariseCpuProfiles } from './lib/cpuprofile.ts';
import { seedGateWorld, type GateWorld } from './lib/gate-seed.ts';

interface Run {
  latencies: number[];
  seconds: number;
  failures: string[];
}

/**
 * `concurrency` loops calling `once` until `seconds` have passed (or `count` calls were made);
 * latencies of the successful calls, sorted.
 */
async function runFor(
  seconds: number,
  concurrency: number,
  once: () => Promise<string | undefined>,
  count = Number.POSITIVE_INFINITY,
): Promise<Run> {
  const latencies: number[] = [];
  const failures: string[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let calls = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline && calls++ < count) {
      const t0 = performance.now();
      const failure = await once();
      if (failure) failures.push(failure);
      else latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return {
    latencies: latencies.sort((a, b) => a - b),
    seconds: (performance.now() - started) / 1000,
    failures,
  };
}

/** One list: status and size are checked on every response; contents on the first one (checkList). */
function lister(pool: Pool, path: string, token: string): () => Promise<string | undefined> {
  return async () => {
    try {
      const res = await pool.request({ path, method: 'GET', headers: { authorization: `Bearer ${token}` } });
      const text = await res.body.text();
      if (res.statusCode !== 200) return `HTTP ${res.statusCode}: ${text.slice(0, 300)}`;
      return text.length < 10_000 ? `short answer (${text.length} bytes)` : undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  };
}

async function checkList(pool: Pool, path: string, token: string, world: GateWorld): Promise<void> {
  const res = await pool.request({ path, method: 'GET', headers: { authorization: `Bearer ${token}` } });
  const bundle = (await res.body.json()) as { entry?: Array<{ resource: { id: string } }> };
  const ids = (bundle.entry ?? []).map((e) => e.resource.id);
  const known = new Set(world.documentIds);
  if (res.statusCode !== 200 || ids.length !== 50 || !ids.every((id) => known.has(id))) {
    throw new Error(`unexpected list: HTTP ${res.statusCode}, ${ids.length} entries`);
  }
}

function summary(label: string, run: Run): string {
  const l = run.latencies;
  return (
    `${label}: ${l.length} in ${round(run.seconds, 2)} s = ${round(l.length / run.seconds)}/s, ` +
    `p50 ${round(percentile(l, 50), 2)} ms, p99 ${round(percentile(l, 99), 2)} ms, max ${round(l.at(-1) ?? 0, 2)} ms`
  );
}

export async function run(args: string[]): Promise<void> {
  const opts = parseOptions(args, ['seconds', 'warmup', 'concurrency', 'docs', 'profile']);
  const seconds = intOption(opts, 'seconds', 10);
  const warmup = opts.warmup === '0' ? 0 : intOption(opts, 'warmup', 2);
  const concurrency = intOption(opts, 'concurrency', 16);
  const docs = intOption(opts, 'docs', 500);
  const profileDir = opts.profile ? resolve(opts.profile) : undefined;
  if (!(await isPostgresReachable()))
    throw new Error('The gate benchmark needs PostgreSQL (CARNET_TEST_PG_URL)');

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
    const dataDir = mkdtempSync(join(tmpdir(), 'carnet-gate-'));
    cleanups.push(() => removeDir(dataDir));
    const scratch = await createScratchDatabase('carnet_gate');
    cleanups.push(() => scratch.drop());
    const masterKey = randomMasterKey();

    const t0 = performance.now();
    const world = await seedGateWorld({ databaseUrl: scratch.url, dataDir, masterKey, docs });
    note(
      `seeded ${world.documentIds.length} documents (${world.maskedCount} masked) and ${world.ruleCount} rules in ${round((performance.now() - t0) / 1000, 1)} s`,
    );

    if (profileDir) mkdirSync(profileDir, { recursive: true });
    const server = await startServer({
      dataDir,
      env: {
        DATABASE_URL: scratch.url,
        CARNET_MASTER_KEY: masterKey,
        CARNET_DEMO: 'false',
        CARNET_TOKEN_TTL_SECONDS: '3600',
        LOG_LEVEL: 'warn',
      },
      ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
      timeoutMs: 60_000,
    });
    cleanups.push(() => server.kill9().then(() => undefined));
    const token = await fetchToken(server.url, world.viewer.clientId, world.viewer.clientSecret);
    const ins = encodeURIComponent(`urn:oid:${world.patient.ins.oid}|${world.patient.ins.matricule}`);
    const path = `/fhir/R4/DocumentReference?patient.identifier=${ins}&_count=50`;
    const pool = new Pool(server.url, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
    cleanups.push(() => pool.destroy());
    await checkList(pool, path, token, world);
    note(`server up at ${server.url} (pid ${server.pid}); ${concurrency} clients, ${seconds} s`);

    const list = lister(pool, path, token);
    if (warmup > 0) note(summary('warm-up', await runFor(warmup, concurrency, list)));
    note(
      `load average before the measured run: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const groups: CpuGroups = { pids: { server: server.pid }, self: true, postgresDatabase: scratch.name };
    const cpuBefore = cpuSnapshot(groups);
    const measured = await runFor(seconds, concurrency, list);
    const cpuAfter = cpuSnapshot(groups);
    note(describeCpu(cpuBefore, cpuAfter, measured.latencies.length).replace('per doc', 'per list'));
    note(summary('lists', measured));
    if (measured.failures.length > 0) {
      throw new Error(
        `${measured.failures.length} lists failed, e.g. ${measured.failures.slice(0, 3).join(' | ')}`,
      );
    }
    await pool.close();
    const status = await server.stop();
    if (status.code !== 0) note(`server stopped with code ${status.code} signal ${status.signal}`);
    if (profileDir) {
      note(`CPU profile of the server written to ${profileDir}`);
      note(summariseCpuProfiles(profileDir, { from: /\/src\/fhir\//, items: measured.latencies.length }));
    }

    // Every list audited: one search event per list served, warm-up included.
    const handle = await openDatabase({ kind: 'postgres', url: scratch.url, poolSize: concurrency });
    cleanups.push(() => handle.close());
    const audited = await handle.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('actor_id', '=', world.viewer.rpps)
      .where('action', '=', 'search')
      .where('outcome', '=', 'success')
      .executeTakeFirstOrThrow();
    note(`audit events of the lists: ${audited.n} (measured lists: ${measured.latencies.length})`);
    if (Number(audited.n) < measured.latencies.length) throw new Error('some lists were not audited');

    // The audit write alone, under the same concurrency (see the method at the top of this file).
    const event: NewAuditEvent = {
      patientId: world.patient.id,
      recordedAt: new Date(),
      actor: {
        kind: 'professional',
        id: world.viewer.rpps,
        display: 'Bench Viewer',
        organizationId: null,
        clientId: world.viewer.clientId,
        professionCode: '10',
      },
      action: 'search',
      entity: { type: 'DocumentReference', id: null },
      outcome: 'success',
      basis: 'care-team',
      reason: null,
      requestId: '01a20000-0000-7000-8000-000000000000',
      details: {
        returned: world.documentIds.slice(0, 50),
        role: { professionCode: '10', specialtyCode: 'SM54', emergencyRegulator: false },
        matrixVersion: 'bench',
        ruleId: world.documentIds[0],
      },
    };
    const auditGroups: CpuGroups = { pids: {}, self: true, postgresDatabase: scratch.name };
    const auditCpuBefore = cpuSnapshot(auditGroups);
    const inserts = await runFor(
      seconds,
      concurrency,
      async () => {
        await handle.db
          .transaction()
          .execute((tx) => recordAuditEvent(tx, { ...event, recordedAt: new Date() }));
        return undefined;
      },
      measured.latencies.length,
    );
    note(summary('audit insert + commit alone', { ...inserts, failures: [] }));
    // The same share in CPU time, which other load on the machine does not inflate.
    const cpuOf = (a: typeof cpuBefore, b: typeof cpuBefore) =>
      [...b.byGroup].reduce((sum, [k, v]) => sum + v - (a.byGroup.get(k) ?? v), 0);
    const auditCpu = cpuOf(auditCpuBefore, cpuSnapshot(auditGroups)) / inserts.latencies.length;
    const listCpu = cpuOf(cpuBefore, cpuAfter) / measured.latencies.length;
    note(
      `audit CPU per event (writer + postgres) ${round(auditCpu, 2)} ms = ${round((100 * auditCpu) / listCpu, 1)} % of the CPU per list (${round(listCpu, 2)} ms)`,
    );
    const listP50 = percentile(measured.latencies, 50);
    const auditP50 = percentile(inserts.latencies, 50);

    await cleanUp();
    const result = {
      bench: 'gate',
      list_p50_ms: round(listP50, 2),
      list_p99_ms: round(percentile(measured.latencies, 99), 2),
      lists_per_s: round(measured.latencies.length / measured.seconds),
      audit_overhead_pct: round((100 * auditP50) / listP50, 1),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await cleanUp();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
