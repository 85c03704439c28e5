import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, type TestRuntime } from '../harness.ts';
import { pendingPerson, START, WEEK } from './support.ts';

/** Downloading the proof of an opposition names the person: it leaves an event on their trail. */

let rt: TestRuntime;
beforeAll(async () => {
  rt = await createTestRuntime({ clock: START });
});
afterAll(async () => {
  await rt?.close();
});

describe('POST /api/opposition/proof', () => {
  it('records the download on the person’s trail, and a mismatch without naming anyone', async () => {
    const { patient, code } = await pendingPerson(rt, new Date(START.getTime() + 6 * WEEK));
    const identity = { matricule: patient.ins.matricule, birthDate: patient.birthDate };
    const opposed = await rt.app.inject({
      method: 'POST',
      url: '/api/opposition',
      payload: { code, ...identity },
    });
    expect(opposed.statusCode, opposed.body).toBe(200);
    const { reference } = opposed.json<{ reference: string }>();

    const proof = await rt.app.inject({
      method: 'POST',
      url: '/api/opposition/proof',
      payload: { reference, ...identity },
    });
    expect(proof.statusCode).toBe(200);
    const reads = await rt.ctx.rootDb
      .selectFrom('audit_events')
      .selectAll()
      .where('patient_id', '=', patient.id)
      .where('action', '=', 'read')
      .execute();
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ outcome: 'success', actor_kind: 'anonymous', entity_id: patient.id });

    const wrong = await rt.app.inject({
      method: 'POST',
      url: '/api/opposition/proof',
      payload: { reference, ...identity, birthDate: '1990-01-01' },
    });
    expect(wrong.statusCode).toBe(404);
    const after = await rt.ctx.rootDb
      .selectFrom('audit_events')
      .select('id')
      .where('patient_id', '=', patient.id)
      .where('action', '=', 'read')
      .execute();
    expect(after).toHaveLength(1);
  });
});
