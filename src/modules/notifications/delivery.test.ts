import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, makeMatricule, NIR_OID, type TestRuntime } from '../../../test/harness.ts';
import type { Ctx } from '../../platform/context.ts';
import type { PatientActor } from '../access/index.ts';
import { registerPatient } from '../identity/index.ts';
import { messageIdOf } from './email.ts';
import { enqueueNotification, type NotificationInput } from './enqueue.ts';
import { updateNotificationPreferences } from './notification.service.ts';
import { startNotificationWorker, type NotificationWorker, type WorkerOptions } from './worker.ts';

/**
 * Delivery through pg-boss on the test database (PGlite, or PostgreSQL with CARNET_TEST_DB=postgres):
 * in-app centre and the local mail outbox, preferences, and restarts.
 */

let rt: TestRuntime;
let ctx: Ctx;
let worker: NotificationWorker | undefined;
let outbox: string;

const FAST: WorkerOptions = {
  pollingIntervalSeconds: 0.5,
  relayIntervalMs: 200,
  retry: { limit: 3, delaySeconds: 1, maxDelaySeconds: 2 },
};

beforeAll(async () => {
  rt = await createTestRuntime();
  ctx = rt.ctx;
  if (ctx.config.mail.kind !== 'outbox') throw new Error('expected the mail outbox');
  outbox = ctx.config.mail.dir;
  worker = await startNotificationWorker(ctx, FAST);
});
afterAll(async () => {
  await worker?.stop();
  await rt?.close();
});

async function patientWith(email: string | null) {
  const { patient } = await registerPatient(ctx, {
    matricule: makeMatricule(),
    oid: NIR_OID,
    given: 'Léa',
    family: 'Durand',
    birthDate: '1990-01-02',
    sex: 'F',
    ...(email ? { email } : {}),
  });
  return patient;
}

const actorFor = (patientId: string): PatientActor => ({
  kind: 'patient',
  patientId,
  display: 'Léa Durand',
  sessionId: '00000000-0000-7000-8000-000000000000',
});

async function commit(input: NotificationInput): Promise<string> {
  const id = await ctx.rootDb.transaction().execute((tx) => enqueueNotification(tx, input));
  if (!id) throw new Error('not enqueued');
  return id;
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function deliveries(patientId: string) {
  return ctx.rootDb
    .selectFrom('notification_deliveries')
    .selectAll()
    .where('patient_id', '=', patientId)
    .orderBy('channel')
    .execute();
}

async function inbox(patientId: string) {
  return ctx.rootDb
    .selectFrom('notification_inbox')
    .selectAll()
    .where('patient_id', '=', patientId)
    .execute();
}

const emlFiles = (): string[] => {
  try {
    return readdirSync(outbox).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
};

describe('delivery', () => {
  it('delivers a committed notification once to the in-app centre and once to the mail outbox', async () => {
    const patient = await patientWith('lea.durand@example.test');
    const id = await commit({
      patientId: patient.id,
      type: 'professional_access',
      data: {
        professionalId: patient.id,
        professionalDisplay: 'Dr Anne Martin',
        professionLabel: 'Médecin',
        accessedAt: '2026-03-04T09:15:00.000Z',
      },
    });
    await waitFor('both deliveries', async () => (await deliveries(patient.id)).length === 2);
    const items = await inbox(patient.id);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      id,
      title: 'Accès à votre dossier',
      body: 'Dr Anne Martin (Médecin) a consulté votre dossier le 4 mars 2026 à 10:15.',
      read_at: null,
    });
    expect((await deliveries(patient.id)).map((d) => [d.channel, d.outcome, d.attempt])).toEqual([
      ['email', 'delivered', 1],
      ['in_app', 'delivered', 1],
    ]);
    const eml = readFileSync(join(outbox, `${id}.eml`), 'utf8');
    expect(eml).toContain(`Message-ID: ${messageIdOf(id)}`);
    expect(eml).toContain('To: lea.durand@example.test');
    expect(eml).toMatch(
      /Subject: =\?UTF-8\?Q\?Acc=C3=A8s_=C3=A0_votre_dossier\?=|Subject: Accès à votre dossier/,
    );
    // Relaying again (another node, a crashed relay) makes no second job and no second delivery.
    await ctx.rootDb.updateTable('notifications').set({ relayed_at: null }).where('id', '=', id).execute();
    await worker?.relayNow();
    await new Promise((r) => setTimeout(r, 1200));
    expect(await inbox(patient.id)).toHaveLength(1);
    expect(await deliveries(patient.id)).toHaveLength(2);
    expect(emlFiles().filter((f) => f.startsWith(id))).toEqual([`${id}.eml`]);
  });

  it('follows preferences per type and channel; mandatory types cannot be turned off', async () => {
    const patient = await patientWith('lea.prefs@example.test');
    await updateNotificationPreferences(ctx, actorFor(patient.id), patient.id, {
      language: 'en',
      preferences: [
        { type: 'document_added', channel: 'email', enabled: false },
        { type: 'message', channel: 'in_app', enabled: false },
      ],
    });
    await expect(
      updateNotificationPreferences(ctx, actorFor(patient.id), patient.id, {
        preferences: [{ type: 'emergency_access', channel: 'email', enabled: false }],
      }),
    ).rejects.toMatchObject({ code: 'invalid_input', message: /cannot be turned off/ });

    const doc = await commit({
      patientId: patient.id,
      type: 'document_added',
      data: { documentId: patient.id },
    });
    const msg = await commit({ patientId: patient.id, type: 'message', data: { messageId: patient.id } });
    const urgent = await commit({
      patientId: patient.id,
      type: 'emergency_access',
      data: { professionalDisplay: 'SAMU 75', mode: 'samu', accessedAt: '2026-03-04T09:15:00.000Z' },
    });
    await waitFor('six decisions', async () => (await deliveries(patient.id)).length === 6);
    const outcome = Object.fromEntries(
      (await deliveries(patient.id)).map((d) => [`${d.notification_id}/${d.channel}`, d.outcome]),
    );
    expect(outcome).toEqual({
      [`${doc}/in_app`]: 'delivered',
      [`${doc}/email`]: 'skipped',
      [`${msg}/in_app`]: 'skipped',
      [`${msg}/email`]: 'delivered',
      [`${urgent}/in_app`]: 'delivered',
      [`${urgent}/email`]: 'delivered',
    });
    expect(emlFiles()).not.toContain(`${doc}.eml`);
    expect(emlFiles()).toContain(`${msg}.eml`);
    const titles = (await inbox(patient.id)).map((i) => i.title).sort();
    expect(titles).toEqual(['Emergency access to your record', 'New documents']);
  });

  it('skips e-mail for a person without an address, and says why', async () => {
    const patient = await patientWith(null);
    const id = await commit({ patientId: patient.id, type: 'message', data: { messageId: patient.id } });
    await waitFor('two decisions', async () => (await deliveries(patient.id)).length === 2);
    const email = (await deliveries(patient.id)).find((d) => d.channel === 'email');
    expect(email).toMatchObject({ outcome: 'skipped', detail: 'no e-mail address' });
    expect(emlFiles()).not.toContain(`${id}.eml`);
  });

  it('survives a restart: rows committed while no worker runs are delivered by the next one, once', async () => {
    await worker?.stop();
    worker = undefined;
    const patient = await patientWith('lea.restart@example.test');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await commit({ patientId: patient.id, type: 'message', data: { messageId: patient.id } }));
    }
    // A first worker relays and starts delivering, and is stopped mid-way …
    const first = await startNotificationWorker(ctx, FAST);
    await waitFor('a first delivery', async () => (await deliveries(patient.id)).length > 0);
    await first.stop();
    // … a new one on the same database finishes the work.
    worker = await startNotificationWorker(ctx, FAST);
    await waitFor('every delivery', async () => (await deliveries(patient.id)).length === 10);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await inbox(patient.id)).map((i) => i.id).sort()).toEqual([...ids].sort());
    expect(await deliveries(patient.id)).toHaveLength(10);
    for (const id of ids) expect(emlFiles().filter((f) => f.startsWith(id))).toEqual([`${id}.eml`]);
  });
});
