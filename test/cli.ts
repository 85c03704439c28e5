import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config.ts';
import type { Ctx } from '../src/platform/context.ts';
import { openRuntime } from '../src/runtime.ts';
import { createTestRuntime, usePostgres, type TestRuntime } from './harness.ts';

/**
 * Where `npx carnet …` tests run the CLI as an operator does: a separate process on the same data
 * directory (embedded PGlite) or database (PostgreSQL, CARNET_TEST_DB=postgres).
 */
export interface CliWorkspace {
  readonly dataDir: string;
  readonly env: Record<string, string>;
  /** Runs `node src/cli.ts …args` with the workspace's environment (plus `extraEnv`). */
  carnet(
    args: string[],
    extraEnv?: Record<string, string>,
  ): { status: number | null; stdout: string; stderr: string };
  /** Runs fn against the data the CLI sees; the embedded database is released afterwards. */
  withData<T>(fn: (ctx: Ctx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export const PROJECT_ROOT = join(import.meta.dirname, '..');

export async function cliWorkspace(): Promise<CliWorkspace> {
  let pgRuntime: TestRuntime | undefined;
  let dataDir: string;
  let env: Record<string, string>;
  if (usePostgres) {
    pgRuntime = await createTestRuntime();
    dataDir = pgRuntime.dataDir;
    const db = pgRuntime.config.database;
    env = {
      CARNET_DATA_DIR: dataDir,
      CARNET_MASTER_KEY: pgRuntime.config.masterKey as string,
      ...(db.kind === 'postgres' ? { DATABASE_URL: db.url } : {}),
    };
  } else {
    dataDir = mkdtempSync(join(tmpdir(), 'carnet-cli-'));
    env = { CARNET_DATA_DIR: dataDir, CARNET_MASTER_KEY: randomBytes(32).toString('base64') };
  }
  return {
    dataDir,
    env,
    carnet: (args, extraEnv = {}) => {
      const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'src', 'cli.ts'), ...args], {
        cwd: PROJECT_ROOT,
        env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'error', ...env, ...extraEnv },
        encoding: 'utf8',
        timeout: 90_000,
      });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    withData: async (fn) => {
      if (pgRuntime) return fn(pgRuntime.ctx);
      const runtime = await openRuntime(
        loadConfig({ ...env, LOG_LEVEL: 'silent' }),
        pino({ level: 'silent' }),
      );
      try {
        return await fn(runtime.ctx);
      } finally {
        await runtime.close();
      }
    },
    close: async () => {
      await pgRuntime?.close();
      if (!pgRuntime) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
