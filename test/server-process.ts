/**
 * A real Carnet server as a child process, for tests and benchmarks that need what `app.inject`
 * cannot give: a listening socket, a process that can be killed (-9) and restarted on the same data
 * directory, the start-up path of src/main.ts (lock, migrations, sweep, demo seed).
 *
 * The child runs `process.execPath src/main.ts` — the pinned Node 24 when started through npm/npx.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { DemoFile } from '../src/demo.ts';

export type { DemoFile } from '../src/demo.ts';

/** The project root (where src/main.ts lives). */
export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

/** PostgreSQL server used by tests and benchmarks (no database name, no trailing slash). */
export const PG_SERVER_URL = (process.env.CARNET_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(
  /\/$/,
  '',
);

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A spawned child, whether or not it ever becomes healthy. */
export interface SpawnedServer {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  /** Everything the child wrote so far (stdout and stderr interleaved, capped at 1 MB). */
  output(): string;
}

export interface ServerProcess extends SpawnedServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The environment the child was started with (reuse it to restart on the same data). */
  readonly env: Readonly<Record<string, string>>;
  /** SIGKILL: no shutdown hook runs, the lock file stays behind. Resolves once the process is gone. */
  kill9(): Promise<ExitStatus>;
  /** SIGTERM (graceful stop), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

export interface StartServerOptions {
  /** Data directory; a fresh temporary one when omitted. */
  dataDir?: string;
  /** Extra environment (DATABASE_URL, CARNET_MASTER_KEY, CARNET_DEMO, LOG_LEVEL…). */
  env?: Record<string, string>;
  /** Node flags placed before the script (e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']). */
  nodeArgs?: string[];
  /** How long to wait for GET /healthz = 200 (default 30 s). */
  timeoutMs?: number;
}

// Variables of the parent that must not leak into the child's configuration.
const STRIPPED_ENV = /^(CARNET_|DATABASE_|BLOB_STORE$|S3_|PORT$|HOST$|LOG_LEVEL$|NODE_OPTIONS$|NODE_ENV$)/;

function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !STRIPPED_ENV.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * A TCP port free right now on 127.0.0.1 (another process may still take it before the child binds).
 * @example const port = await freePort();
 */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => (port ? ok(port) : fail(new Error('no port'))));
    });
  });
}

/**
 * Spawns `node src/main.ts` with exactly this environment, without waiting for anything.
 * @example const s = spawnServer({ CARNET_DATA_DIR: dir, PORT: '0' }); const { code } = await s.exited;
 */
export function spawnServer(env: Record<string, string>, nodeArgs: string[] = []): SpawnedServer {
  const child = spawn(process.execPath, [...nodeArgs, 'src/main.ts'], {
    cwd: PROJECT_ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const append = (chunk: Buffer): void => {
    if (out.length < 1_000_000) out += chunk.toString('utf8');
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<ExitStatus>((ok) => {
    child.once('exit', (code, signal) => ok({ code, signal }));
    child.once('error', (err) => {
      append(Buffer.from(`spawn error: ${err.message}\n`));
      ok({ code: null, signal: null });
    });
  });
  return { child, pid: child.pid ?? -1, exited, output: () => out };
}

async function waitHealthy(
  url: string,
  spawned: SpawnedServer,
  timeoutMs: number,
): Promise<'up' | 'exited' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void spawned.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) return 'exited';
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return 'up';
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return 'timeout';
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * Starts a server on a free port and waits until GET /healthz answers 200. Throws with the child's
 * output when it exits or does not become healthy in time.
 * @example
 * const server = await startServer({ env: { LOG_LEVEL: 'warn' } });
 * const demo = readDemo(server.dataDir);
 * await server.kill9();
 * const again = await startServer({ dataDir: server.dataDir, env: server.env });
 */
export async function startServer(options: StartServerOptions = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'carnet-server-'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const env: Record<string, string> = {
      LOG_LEVEL: 'warn',
      ...options.env,
      CARNET_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
    };
    const spawned = spawnServer(env, options.nodeArgs);
    const url = `http://127.0.0.1:${port}`;
    const result = await waitHealthy(url, spawned, options.timeoutMs ?? 30_000);
    if (result !== 'up') {
      if (isRunning(spawned.child)) spawned.child.kill('SIGKILL');
      const status = await spawned.exited;
      if (attempt < 3 && /EADDRINUSE/.test(spawned.output())) continue;
      const why =
        result === 'timeout'
          ? 'did not become healthy in time'
          : `exited (code ${status.code}, signal ${status.signal})`;
      throw new Error(`Carnet server ${why}. Output:\n${spawned.output()}`);
    }
    const kill9 = async (): Promise<ExitStatus> => {
      if (isRunning(spawned.child)) spawned.child.kill('SIGKILL');
      return spawned.exited;
    };
    return {
      ...spawned,
      url,
      port,
      dataDir,
      env,
      kill9,
      stop: async (graceMs = 10_000) => {
        if (!isRunning(spawned.child)) return spawned.exited;
        spawned.child.kill('SIGTERM');
        const timer = setTimeout(() => void kill9(), graceMs);
        const status = await spawned.exited;
        clearTimeout(timer);
        return status;
      },
    };
  }
}

/**
 * Reads <dataDir>/demo.json, written by a server started in demo mode.
 * @example const { patients, professionals } = readDemo(server.dataDir);
 */
export function readDemo(dataDir: string): DemoFile {
  return JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8')) as DemoFile;
}

/**
 * Gets a bearer token with the client-credentials grant.
 * @example const token = await fetchToken(server.url, pro.clientId, pro.clientSecret);
 */
export async function fetchToken(url: string, clientId: string, clientSecret: string): Promise<string> {
  const res = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
    }).toString(),
  });
  const body = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || !body.access_token)
    throw new Error(`token for ${clientId}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

/** True when a PostgreSQL server answers at `serverUrl` within a second. */
export async function isPostgresReachable(serverUrl: string = PG_SERVER_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres`, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * Creates an empty database with a unique name on the PostgreSQL server; drop() removes it (forcing
 * out any connection left by a killed server).
 * @example const db = await createScratchDatabase(); … await db.drop();
 */
export async function createScratchDatabase(
  prefix = 'carnet_proc',
  serverUrl: string = PG_SERVER_URL,
): Promise<ScratchDatabase> {
  const name = `${prefix}_${Date.now()}_${randomBytes(4).toString('hex')}`;
  const admin = async (statement: string): Promise<void> => {
    const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  return {
    name,
    url: `${serverUrl}/${name}`,
    drop: () => admin(`drop database if exists ${name} with (force)`),
  };
}

/** A random 32-byte master key, base64 (what CARNET_MASTER_KEY expects). */
export function randomMasterKey(): string {
  return randomBytes(32).toString('base64');
}

/** Removes a temporary directory, ignoring errors. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
