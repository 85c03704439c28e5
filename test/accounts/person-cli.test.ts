import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Patient } from '../../src/modules/identity/index.ts';
import type { Ctx } from '../../src/platform/context.ts';
import { cliWorkspace, type CliWorkspace } from '../cli.ts';
import { seedPatient } from '../harness.ts';

/**
 * `npx carnet person …` as an operator runs it: a separate process on the same data directory
 * (embedded PGlite) or database (PostgreSQL). Every command is audited with the operator's id.
 */

let ws: CliWorkspace;
let person: Patient;
const carnet = (...args: string[]) => ws.carnet(['person', ...args], { CARNET_OPERATOR: 'op-alice' });
const withData = <T>(fn: (ctx: Ctx) => Promise<T>): Promise<T> => ws.withData(fn);

beforeAll(async () => {
  ws = await cliWorkspace();
  person = await withData((ctx) => seedPatient(ctx, { login: `cli-${randomBytes(4).toString('hex')}` }));
});

afterAll(async () => {
  await ws?.close();
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
