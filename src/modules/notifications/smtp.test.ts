import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, makeMatricule, NIR_OID, type TestRuntime } from '../../../test/harness.ts';
import type { Ctx } from '../../platform/context.ts';
import { registerPatient } from '../identity/index.ts';
import { messageIdOf } from './email.ts';
import { enqueueNotification } from './enqueue.ts';
import { startNotificationWorker, type WorkerOptions } from './worker.ts';

/**
 * E-mail over SMTP to a tiny local sink (a process boundary, so a fake is fair): transient failures
 * are retried with backoff and the message is accepted exactly once; a worker stopped mid-way
 * leaves nothing lost and nothing sent twice once the next worker has run.
 */

interface Held {
  socket: Socket;
  messageId: string;
}

/** A minimal SMTP server on 127.0.0.1 that counts accepted messages by Message-ID. */
class SmtpSink {
  readonly accepted = new Map<string, number>();
  readonly held: Held[] = [];
  /** Answer 451 to the next n MAIL FROM commands. */
  failNext = 0;
  /** Accept this many more messages, then hold the replies of the following ones (null: never hold). */
  acceptBeforeHold: number | null = null;
  connections = 0;
  #server: Server = createServer((socket) => this.#session(socket));
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  /** Accepts the held messages whose client is still there, and stops holding. */
  release(): void {
    this.acceptBeforeHold = null;
    for (const h of this.held.splice(0)) {
      if (h.socket.destroyed) continue;
      this.#accept(h.messageId);
      h.socket.write('250 2.0.0 queued\r\n');
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const h of this.held) h.socket.destroy();
    });
  }

  count(messageId: string): number {
    return this.accepted.get(messageId) ?? 0;
  }

  #accept(messageId: string): void {
    this.accepted.set(messageId, this.count(messageId) + 1);
  }

  #session(socket: Socket): void {
    this.connections++;
    let buffer = '';
    let inData = false;
    let message: string[] = [];
    socket.on('error', () => undefined);
    socket.on('close', () => {
      // A client gone before the reply to its data: the message was never accepted.
      for (let i = this.held.length - 1; i >= 0; i--)
        if (this.held[i]?.socket === socket) this.held.splice(i, 1);
    });
    socket.write('220 sink.test ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      let nl: number;
      while ((nl = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        if (inData) {
          if (line !== '.') {
            message.push(line);
            continue;
          }
          inData = false;
          const header = message.find((l) => /^message-id:/i.test(l)) ?? '';
          const messageId = header.slice(header.indexOf(':') + 1).trim();
          message = [];
          if (this.acceptBeforeHold !== null && this.acceptBeforeHold <= 0) {
            this.held.push({ socket, messageId });
            continue;
          }
          if (this.acceptBeforeHold !== null) this.acceptBeforeHold--;
          this.#accept(messageId);
          socket.write('250 2.0.0 queued\r\n');
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250 sink.test\r\n');
        else if (verb === 'MAIL') {
          if (this.failNext > 0) {
            this.failNext--;
            socket.write('451 4.3.0 Temporary failure, try again later\r\n');
          } else socket.write('250 2.1.0 OK\r\n');
        } else if (verb === 'RCPT') socket.write('250 2.1.5 OK\r\n');
        else if (verb === 'DATA') {
          inData = true;
          socket.write('354 End data with <CR><LF>.<CR><LF>\r\n');
        } else if (verb === 'QUIT') socket.end('221 2.0.0 Bye\r\n');
        else socket.write('250 OK\r\n'); // RSET, NOOP
      }
    });
  }
}

const sink = new SmtpSink();
let rt: TestRuntime;
let ctx: Ctx;
const FAST: WorkerOptions = {
  pollingIntervalSeconds: 0.5,
  relayIntervalMs: 200,
  retry: { limit: 5, delaySeconds: 1, maxDelaySeconds: 2 },
};

beforeAll(async () => {
  await sink.start();
  rt = await createTestRuntime({ env: { SMTP_URL: `smtp://127.0.0.1:${sink.port}` } });
  ctx = rt.ctx;
});
afterAll(async () => {
  await rt?.close();
  await sink.close();
});

async function patientWithEmail() {
  const { patient } = await registerPatient(ctx, {
    matricule: makeMatricule(),
    oid: NIR_OID,
    given: 'Noé',
    family: 'Petit',
    birthDate: '1980-05-06',
    sex: 'M',
    email: 'noe.petit@example.test',
  });
  return patient;
}

async function commitMessage(patientId: string): Promise<string> {
  const id = await ctx.rootDb
    .transaction()
    .execute((tx) => enqueueNotification(tx, { patientId, type: 'message', data: { messageId: patientId } }));
  if (!id) throw new Error('not enqueued');
  return id;
}

async function emailDeliveries(patientId: string) {
  return ctx.rootDb
    .selectFrom('notification_deliveries')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('channel', '=', 'email')
    .execute();
}

async function waitFor(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('SMTP delivery', () => {
  it('retries a failing server with backoff, then delivers exactly once', async () => {
    const worker = await startNotificationWorker(ctx, FAST);
    try {
      const patient = await patientWithEmail();
      sink.failNext = 2;
      const started = Date.now();
      const id = await commitMessage(patient.id);
      await waitFor('the e-mail delivery', async () => (await emailDeliveries(patient.id)).length === 1);
      // Two failed tries, with a growing delay between them (about 1 s, then about 2 s).
      expect(Date.now() - started).toBeGreaterThan(1500);
      expect((await emailDeliveries(patient.id))[0]).toMatchObject({ outcome: 'delivered', attempt: 3 });
      await new Promise((r) => setTimeout(r, 1500));
      expect(sink.count(messageIdOf(id))).toBe(1);
    } finally {
      await worker.stop();
    }
  });

  it('a worker stopped mid-way loses nothing, and the next one sends nothing twice', async () => {
    const patient = await patientWithEmail();
    sink.acceptBeforeHold = 1;
    const ids = [
      await commitMessage(patient.id),
      await commitMessage(patient.id),
      await commitMessage(patient.id),
    ];
    const first = await startNotificationWorker(ctx, FAST);
    await waitFor('one accepted and one in flight', async () => {
      const accepted = ids.filter((id) => sink.count(messageIdOf(id)) > 0).length;
      return accepted === 1 && sink.held.length > 0 && (await emailDeliveries(patient.id)).length === 1;
    });
    await first.stop(); // not graceful: the sends in flight are cut off, their jobs failed for a retry
    await waitFor('the cut-off connections to close', () => sink.held.length === 0, 5000);
    expect(ids.filter((id) => sink.count(messageIdOf(id)) > 0)).toHaveLength(1);

    sink.release();
    const second = await startNotificationWorker(ctx, FAST);
    try {
      await waitFor('every e-mail', async () => (await emailDeliveries(patient.id)).length === 3);
      await new Promise((r) => setTimeout(r, 1500));
      expect(ids.map((id) => sink.count(messageIdOf(id)))).toEqual([1, 1, 1]);
      expect(await emailDeliveries(patient.id)).toHaveLength(3);
    } finally {
      await second.stop();
    }
  });
});
