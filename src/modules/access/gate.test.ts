import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, seedPatient, type TestRuntime } from '../../../test/harness.ts';
import type { PatientActor } from './actor.ts';
import { guarded, requireAccess } from './gate.ts';

/** guarded() nesting: an inner guarded() joins the enclosing transaction (all or nothing). */

let rt: TestRuntime;
beforeAll(async () => {
  rt = await createTestRuntime();
});
afterAll(async () => {
  await rt.close();
});

const self = (patientId: string): PatientActor => ({
  kind: 'patient',
  patientId,
  display: 'Camille Test',
  sessionId: 'gate-test',
});

const eventsOf = (patientId: string) =>
  rt.ctx.rootDb
    .selectFrom('audit_events')
    .select(['actor_id', 'entity_type', 'outcome', 'reason'])
    .where('patient_id', '=', patientId)
    .where('entity_type', 'in', ['Profile', 'Observation'])
    .orderBy('seq')
    .execute();

const givenOf = async (patientId: string) =>
  (
    await rt.ctx.rootDb
      .selectFrom('patients')
      .select('given')
      .where('id', '=', patientId)
      .executeTakeFirstOrThrow()
  ).given;

describe('guarded() nesting', () => {
  it('runs an inner guarded() in the enclosing transaction', async () => {
    const owner = await seedPatient(rt.ctx);
    await guarded(rt.ctx, async (outer) => {
      await guarded(outer, async (inner) => {
        expect(inner.db).toBe(outer.db);
        await inner.db.updateTable('patients').set({ given: 'Inner' }).where('id', '=', owner.id).execute();
      });
      // The inner write is visible in the outer transaction, not yet outside it.
      expect(
        (
          await outer.db
            .selectFrom('patients')
            .select('given')
            .where('id', '=', owner.id)
            .executeTakeFirstOrThrow()
        ).given,
      ).toBe('Inner');
    });
    expect(await givenOf(owner.id)).toBe('Inner');
  });

  it('rolls back the outer writes when an inner guarded() is denied, and still audits the denial', async () => {
    const owner = await seedPatient(rt.ctx);
    const stranger = await seedPatient(rt.ctx);
    const before = await givenOf(owner.id);
    const attempt = guarded(rt.ctx, async (outer) => {
      await requireAccess(outer, self(owner.id), {
        patientId: owner.id,
        action: 'create',
        entity: { type: 'Profile' },
      });
      await outer.db.updateTable('patients').set({ given: 'Outer' }).where('id', '=', owner.id).execute();
      await guarded(outer, async (inner) => {
        await inner.db.updateTable('patients').set({ given: 'Inner' }).where('id', '=', owner.id).execute();
        // Another person's record: denied.
        await requireAccess(inner, self(stranger.id), {
          patientId: owner.id,
          action: 'create',
          entity: { type: 'Observation' },
        });
      });
    });
    await expect(attempt).rejects.toMatchObject({ code: 'not_found' });
    expect(await givenOf(owner.id)).toBe(before);
    // The outer step's success event is rolled back with it; the denial survives the rollback.
    expect(await eventsOf(owner.id)).toEqual([
      {
        actor_id: stranger.id,
        entity_type: 'Observation',
        outcome: 'denied',
        reason: 'not the owner of this record',
      },
    ]);
  });

  it('rolls back everything when an inner guarded() fails unexpectedly', async () => {
    const owner = await seedPatient(rt.ctx);
    const before = await givenOf(owner.id);
    const attempt = guarded(rt.ctx, async (outer) => {
      await outer.db.updateTable('patients').set({ given: 'Outer' }).where('id', '=', owner.id).execute();
      await guarded(outer, async (inner) => {
        await requireAccess(inner, self(owner.id), {
          patientId: owner.id,
          action: 'create',
          entity: { type: 'Observation' },
        });
        throw new Error('boom');
      });
    });
    await expect(attempt).rejects.toThrow('boom');
    expect(await givenOf(owner.id)).toBe(before);
    expect(await eventsOf(owner.id)).toEqual([
      { actor_id: owner.id, entity_type: 'Observation', outcome: 'failure', reason: 'internal' },
    ]);
  });

  it('does not let a ctx kept past its transaction join it', async () => {
    const owner = await seedPatient(rt.ctx);
    const kept = await guarded(rt.ctx, (tx) => Promise.resolve(tx));
    await guarded(kept, async (tx) => {
      expect(tx.db).not.toBe(kept.db);
      await tx.db.updateTable('patients').set({ given: 'Later' }).where('id', '=', owner.id).execute();
    });
    expect(await givenOf(owner.id)).toBe('Later');
  });
});
