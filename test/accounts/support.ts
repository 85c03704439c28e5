import { sql } from 'kysely';
import type { Patient } from '../../src/modules/identity/index.ts';
import { issueProvisionalCode } from '../../src/modules/identity/index.ts';
import type { fixedClock } from '../../src/platform/clock.ts';
import { seedPatient, type TestRuntime } from '../harness.ts';

/** Helpers of the account lifecycle suites. */

export const START = new Date('2026-03-02T08:00:00Z');
export const HOUR = 3600_000;
export const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;

export type TestClock = ReturnType<typeof fixedClock>;

export function clockOf(rt: TestRuntime): TestClock {
  return rt.clock as TestClock;
}

/** A person as the population import leaves them: pending, window open until `deadline`, a live code. */
export async function pendingPerson(
  rt: TestRuntime,
  deadline: Date,
): Promise<{ patient: Patient; code: string }> {
  const patient = await seedPatient(rt.ctx);
  await rt.ctx.rootDb
    .updateTable('patients')
    .set({ account_status: 'pending', opposition_deadline: deadline })
    .where('id', '=', patient.id)
    .execute();
  const { code } = await issueProvisionalCode(rt.ctx, rt.ctx.rootDb, patient.id);
  return { patient, code };
}

export async function statusOf(rt: TestRuntime, patientId: string) {
  return rt.ctx.rootDb
    .selectFrom('patients')
    .select(['account_status', 'closed_at', 'erase_after', 'suspension_deadline', 'status_changed_at'])
    .where('id', '=', patientId)
    .executeTakeFirst();
}

/** Every row, of every table of the schema, whose text form contains `needle`: table → count. */
export async function rowsMentioning(rt: TestRuntime, needle: string): Promise<Record<string, number>> {
  const tables = (
    await sql<{ table_name: string }>`
      select table_name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE'
    `.execute(rt.ctx.rootDb)
  ).rows.map((r) => r.table_name);
  const found: Record<string, number> = {};
  for (const table of tables) {
    const r = await sql<{ n: string | number }>`
      select count(*) as n from ${sql.table(table)} t where t::text like ${'%' + needle + '%'}
    `.execute(rt.ctx.rootDb);
    const n = Number(r.rows[0]?.n ?? 0);
    if (n > 0) found[table] = n;
  }
  return found;
}

export async function noticesOf(rt: TestRuntime, patientId: string): Promise<string[]> {
  const rows = await rt.ctx.rootDb
    .selectFrom('account_notices')
    .select('kind')
    .where('patient_id', '=', patientId)
    .orderBy('created_at')
    .execute();
  return rows.map((r) => r.kind);
}
