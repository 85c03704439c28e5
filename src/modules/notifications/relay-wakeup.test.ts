import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestRuntime, seedPatient, type TestRuntime } from '../../../test/harness.ts';
import { enqueueNotification } from './enqueue.ts';
import { startNotificationWorker, type NotificationWorker } from './worker.ts';

/**
 * The commit itself wakes the relay (NOTIFY in the outbox transaction, LISTEN in the worker) and
 * pg-boss wakes its workers the same way: delivery does not wait for the timers, set here to 60 s.
 */

let rt: TestRuntime;
let worker: NotificationWorker;

beforeAll(async () => {
  rt = await createTestRuntime();
  worker = await startNotificationWorker(rt.ctx, { pollingIntervalSeconds: 60, relayIntervalMs: 60_000 });
});
afterAll(async () => {
  await worker?.stop();
  await rt?.close();
});

it('delivers within moments of the commit, without waiting for a timer', async () => {
  const patient = await seedPatient(rt.ctx);
  const started = Date.now();
  await rt.ctx.rootDb
    .transaction()
    .execute((tx) =>
      enqueueNotification(tx, { patientId: patient.id, type: 'message', data: { messageId: patient.id } }),
    );
  let delivered = false;
  while (!delivered && Date.now() - started < 5000) {
    const rows = await rt.ctx.rootDb
      .selectFrom('notification_inbox')
      .select('id')
      .where('patient_id', '=', patient.id)
      .execute();
    delivered = rows.length === 1;
    if (!delivered) await new Promise((r) => setTimeout(r, 50));
  }
  expect(delivered).toBe(true);
  expect(Date.now() - started).toBeLessThan(5000);
});
