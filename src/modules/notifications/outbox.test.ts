import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, seedPatient, type TestRuntime } from '../../../test/harness.ts';
import { AppError } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { guarded, requireAccess, type PatientActor } from '../access/index.ts';
import { enqueueNotification, notificationEvents } from './enqueue.ts';

/** The outbox is written in the transaction of the action: commit notifies once, rollback never. */

let rt: TestRuntime;
let ctx: Ctx;

beforeAll(async () => {
  rt = await createTestRuntime();
  ctx = { ...rt.ctx, events: notificationEvents(rt.ctx.clock) };
});
afterAll(async () => rt?.close());

async function outboxOf(patientId: string) {
  return ctx.rootDb.selectFrom('notifications').selectAll().where('patient_id', '=', patientId).execute();
}

const actorFor = (patientId: string): PatientActor => ({
  kind: 'patient',
  patientId,
  display: 'Camille Test',
  sessionId: '00000000-0000-7000-8000-000000000000',
});

/** An action on the record (an audited read of the preferences) that also writes a notification. */
async function action(patientId: string, then: 'commit' | 'fail'): Promise<void> {
  await guarded(ctx, async (tx) => {
    await requireAccess(tx, actorFor(patientId), {
      patientId,
      action: 'update',
      entity: { type: 'NotificationPreference' },
    });
    await tx.events?.publish(tx.db, { type: 'document.added', patientId, data: { documentId: patientId } });
    if (then === 'fail')
      throw new AppError('conflict', 'the action failed after its notification was written');
  });
}

describe('outbox', () => {
  it('an action that commits enqueues exactly one notification', async () => {
    const patient = await seedPatient(ctx);
    await action(patient.id, 'commit');
    const rows = await outboxOf(patient.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ type: 'document_added', mandatory: false, relayed_at: null });
    expect(rows[0]?.data).toEqual({ documentId: patient.id });
  });

  it('an action that rolls back enqueues none', async () => {
    const patient = await seedPatient(ctx);
    await expect(action(patient.id, 'fail')).rejects.toMatchObject({ code: 'conflict' });
    expect(await outboxOf(patient.id)).toHaveLength(0);
  });

  it('professional and emergency accesses are mandatory whatever the caller says', async () => {
    const patient = await seedPatient(ctx);
    await ctx.rootDb.transaction().execute(async (tx) => {
      await enqueueNotification(tx, {
        patientId: patient.id,
        type: 'professional_access',
        data: {
          professionalId: patient.id,
          professionalDisplay: 'Dr Martin',
          accessedAt: new Date().toISOString(),
        },
        mandatory: false,
      });
      await enqueueNotification(tx, {
        patientId: patient.id,
        type: 'message',
        data: { messageId: patient.id },
      });
    });
    const rows = await outboxOf(patient.id);
    expect(Object.fromEntries(rows.map((r) => [r.type, r.mandatory]))).toEqual({
      professional_access: true,
      message: false,
    });
  });

  it('one notification per coalescing key', async () => {
    const patient = await seedPatient(ctx);
    const input = {
      patientId: patient.id,
      type: 'message' as const,
      data: { messageId: patient.id },
      coalesceKey: 'thread-1',
    };
    const first = await enqueueNotification(ctx.rootDb, input);
    const second = await enqueueNotification(ctx.rootDb, input);
    expect(first).toBeDefined();
    expect(second).toBeUndefined();
    expect(await outboxOf(patient.id)).toHaveLength(1);
  });

  it('new documents for one person in one window make one notification; another person gets theirs', async () => {
    const patient = await seedPatient(ctx);
    const other = await seedPatient(ctx);
    await action(patient.id, 'commit');
    await action(patient.id, 'commit');
    await action(other.id, 'commit');
    expect(await outboxOf(patient.id)).toHaveLength(1);
    expect(await outboxOf(other.id)).toHaveLength(1);
  });

  it('refuses data a type does not allow, and writes nothing', async () => {
    const patient = await seedPatient(ctx);
    await expect(
      enqueueNotification(ctx.rootDb, {
        patientId: patient.id,
        type: 'document_added',
        data: { documentId: patient.id, title: 'Résultat de biopsie' } as never,
      }),
    ).rejects.toMatchObject({ code: 'invalid_input' });
    expect(await outboxOf(patient.id)).toHaveLength(0);
  });
});
