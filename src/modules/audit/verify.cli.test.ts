import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWorkspace, type CliWorkspace } from '../../../test/cli.ts';
import type { Ctx } from '../../platform/context.ts';
import { recordAuditEvent } from './index.ts';

/**
 * `npx carnet audit seal|verify` as an operator runs it: a separate process on the same data
 * directory (embedded PGlite) or database (PostgreSQL). Exit 0 when intact, 1 when broken.
 */

let ws: CliWorkspace;

beforeAll(async () => {
  ws = await cliWorkspace();
});

afterAll(async () => {
  await ws?.close();
});

/** Runs fn against the data the CLI will see; the embedded database is released afterwards. */
const withData = (fn: (ctx: Ctx) => Promise<void>): Promise<void> => ws.withData(fn);

const carnet = (...args: string[]) => ws.carnet(args);

describe('carnet audit', () => {
  const patientId = randomUUID();
  const eventIds: string[] = [];

  it('seals, then verifies an intact trail (exit 0)', async () => {
    await withData(async (ctx) => {
      for (let i = 0; i < 3; i++) {
        eventIds.push(
          await recordAuditEvent(ctx.rootDb, {
            patientId,
            recordedAt: new Date(),
            actor: {
              kind: 'patient',
              id: patientId,
              display: 'Camille Test',
              organizationId: null,
              clientId: null,
            },
            action: 'read',
            entity: { type: 'DocumentReference', id: randomUUID() },
            outcome: 'success',
            basis: 'owner',
            reason: null,
            requestId: null,
            details: {},
          }),
        );
      }
    });
    const seal = carnet('audit', 'seal');
    expect(seal.stderr).toBe('');
    expect(seal.stdout).toMatch(/^Sealed 3 events in 1 chains\.$/m);
    expect(seal.status).toBe(0);
    const verify = carnet('audit', 'verify');
    expect(verify.stdout).toMatch(/Checked 3 sealed events in 1 chains; 1 of 1 checkpoints genuine/);
    expect(verify.stdout).toMatch(/Every chain holds\./);
    expect(verify.status).toBe(0);
  });

  it('names the first broken link and exits 1 when a row was changed', async () => {
    await withData(async (ctx) => {
      await sql`update audit_events set actor_display = 'Someone else' where id = ${eventIds[1]}`.execute(
        ctx.rootDb,
      );
    });
    const verify = carnet('audit', 'verify', '--json');
    expect(verify.status).toBe(1);
    const report = JSON.parse(verify.stdout) as { ok: boolean; breaks: unknown[] };
    expect(report.ok).toBe(false);
    expect(report.breaks).toEqual([
      {
        patientId,
        chainIndex: 2,
        eventId: eventIds[1],
        problem: 'hash mismatch: the event was changed after sealing',
      },
    ]);
  });

  it('explains its usage (exit 2)', () => {
    const r = carnet('audit', 'frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/audit verify/);
  });
});
