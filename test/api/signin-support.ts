import { sql } from 'kysely';
import type { LightMyRequestResponse } from 'fastify';
import { issueProvisionalCode } from '../../src/modules/identity/index.ts';
import { listOutboxMails } from '../../src/modules/notifications/index.ts';
import { seedPatient, type TestRuntime } from '../harness.ts';

/** Helpers of the activation and sign-in suites. */

export const STRONG = 'violet tandem harbour 42';

/** A person from the insurer's file: imported, pending (or open), with a health-card serial and a live code. */
export async function importedPerson(
  rt: TestRuntime,
  options: { status?: 'pending' | 'open' | 'opposed' | 'suspended' | 'closed' } = {},
) {
  const patient = await seedPatient(rt.ctx);
  const cardSerial = `CS${patient.id.slice(-8).toUpperCase()}`;
  await sql`update patients set origin = 'import', card_serial = ${cardSerial}, account_status = ${
    options.status ?? 'pending'
  } where id = ${patient.id}`.execute(rt.ctx.rootDb);
  const { code } = await issueProvisionalCode(rt.ctx, rt.ctx.rootDb, patient.id);
  return { patient, cardSerial, code, matricule: patient.ins.matricule };
}

export function cookieOf(res: LightMyRequestResponse): string {
  const c = res.cookies.find((k) => k.name === 'carnet_session');
  if (!c) throw new Error(`no session cookie: ${res.statusCode} ${res.body}`);
  return `carnet_session=${c.value}`;
}

/** The six-digit code of the newest account mail sent to `to`. */
export async function mailedCode(rt: TestRuntime, to: string): Promise<string> {
  if (rt.config.mail.kind !== 'outbox') throw new Error('tests read the mail outbox');
  const mails = (await listOutboxMails(rt.config.mail.dir)).filter((m) => m.to.includes(to));
  const newest = mails.sort((a, b) => (a.id < b.id ? 1 : -1))[0];
  const match = newest ? /code (\d{6})/.exec(newest.subject) : null;
  if (!match?.[1]) throw new Error(`no code mailed to ${to}`);
  return match[1];
}
