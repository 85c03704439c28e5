import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Patient } from '../../src/modules/identity/index.ts';
import { loadConfig } from '../../src/config.ts';
import type { Ctx } from '../../src/platform/context.ts';
import { openRuntime } from '../../src/runtime.ts';
import { createTestRuntime, seedPatient, usePostgres, type TestRuntime } from '../harness.ts';

/**
 * `npx carnet person …` as an operator runs it: a separate process on the same data directory
 * (embedded PGlite) or database (PostgreSQL). Every command is audited with the operator's id.
 */

const root = join(import.meta.dirname, '..', '..');
const masterKey = randomBytes(32).toString('base64');
let dataDir: string;
let env: Record<string, string>;
let pgRuntime: TestRuntime | undefined;
let person: Patient;

async function withData<T>(fn: (ctx: Ctx) => Promise<T>): Promise<T> {
  if (pgRuntime) return fn(pgRuntime.ctx);
  const runtime = await openRuntime(loadConfig({ ...env, LOG_LEVEL: 'silent' }), pino({ level: 'silent' }));
  try {
    return await fn(runtime.ctx);
  } finally {
    await runtime.close();
  }
}

function carnet(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'src', 'cli.ts'), 'person', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'error', CARNET_OPERATOR: 'op-alice', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
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
    env = { CARNET_DATA_DIR: dataDir, CARNET_MASTER_KEY: masterKey };
  }
  person = await withData((ctx) => seedPatient(ctx, { login: `cli-${randomBytes(4).toString('hex')}` }));
});
afterAll(async () => {
  await pgRuntime?.close();
  if (!usePostgres) rmSync(dataDir, { recursive: true, force: true });
});

describe('carnet person', () => {
  it('show, reissue-code, suspend, unsuspend, close, reopen — each audited as the operator', async () => {
    const m = person.ins.matricule;
    const show = carnet('show', m);
    expect(show.status, show.stderr).toBe(0);
    expect(show.stdout).toContain(`${person.given} ${person.family}`);
    expect(show.stdout).toMatch(/status\s+open/);

    const reissue = carnet('reissue-code', m);
    expect(reissue.status, reissue.stderr).toBe(0);
    expect(reissue.stdout).toMatch(/not shown here/);
    expect(reissue.stdout).not.toMatch(/[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}/);

    const noReason = carnet('suspend', m);
    expect(noReason.status).toBe(2);
    const suspend = carnet('suspend', m, '--reason', 'identity theft reported');
    expect(suspend.status, suspend.stderr).toBe(0);
    expect(suspend.stdout).toMatch(/status suspended/);
    const shown = carnet('show', m, '--json');
    expect(JSON.parse(shown.stdout)).toMatchObject({
      status: 'suspended',
      suspension: { reason: 'identity theft reported', by: 'op-alice' },
    });
    expect(carnet('unsuspend', m).status).toBe(0);
    const close = carnet('close', m);
    expect(close.status, close.stderr).toBe(0);
    expect(close.stdout).toMatch(/status closed/);
    const closeAgain = carnet('suspend', m, '--reason', 'x');
    expect(closeAgain.status).toBe(1);
    expect(closeAgain.stderr).toMatch(/Only an open space can be suspended/);
    const reopen = carnet('reopen', m);
    expect(reopen.status, reopen.stderr).toBe(0);
    expect(reopen.stdout).toMatch(/status open/);

    const events = await withData((ctx) =>
      ctx.rootDb
        .selectFrom('audit_events')
        .select(['actor_kind', 'actor_id', 'details'])
        .where('patient_id', '=', person.id)
        .where('actor_kind', '=', 'operator')
        .orderBy('seq')
        .execute(),
    );
    expect(events.every((e) => e.actor_id === 'op-alice')).toBe(true);
    expect(events.map((e) => e.details.operation)).toEqual([
      'show',
      'reissue-code',
      'suspend',
      'show',
      'unsuspend',
      'close',
      'reopen',
    ]);
    const kinds = await withData((ctx) =>
      ctx.rootDb
        .selectFrom('account_notices')
        .select('kind')
        .where('patient_id', '=', person.id)
        .orderBy('created_at')
        .execute(),
    );
    expect(kinds.map((k) => k.kind)).toEqual(['code_reissued', 'suspension', 'closure', 'reopening']);
  }, 300_000);

  it('unknown matricule: exit 1 with a message; bad usage: exit 2', () => {
    const unknown = carnet('show', '299999999999999');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/No person with matricule 299999999999999/);
    expect(carnet('explode', '299999999999999').status).toBe(2);
    expect(carnet('show').status).toBe(2);
  }, 120_000);
});
