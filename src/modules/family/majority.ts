import type { Ctx } from '../../platform/context.ts';
import { endRepresentation, guarded, type SystemActor } from '../access/index.ts';
import { queueNotice } from '../accounts/index.ts';
import { recordAuditEvent } from '../audit/index.ts';
import { issueProvisionalCode, majorityAt } from '../identity/index.ts';
import { registerJobHandler, type JobRegistry } from '../notifications/index.ts';
import { parisDate, yearsBefore } from './family.ts';
import * as repo from './family.repository.ts';

/**
 * Autonomy at 18 (DOMAIN §2). Legal representatives' rules end at majority by themselves (their
 * `ends_at`); this job then, once per person: ends any legal representation still live (rules
 * written without an end date), and invites the new adult to activate their space with a
 * provisional code (notice 'majority'). The space stays open; they activate it like everyone.
 * People who came of age more than a year before the job first saw them are left out (bounded
 * scan: the birth-date window is one year wide).
 */

const SYSTEM: SystemActor = { kind: 'system', display: 'Carnet (majorité)' };

export interface MajorityReport {
  invited: number;
  processed: number;
}

/** @example const report = await processMajorities(ctx, { limit: 1000 }); */
export async function processMajorities(ctx: Ctx, options: { limit: number }): Promise<MajorityReport> {
  const now = ctx.clock.now();
  const today = parisDate(now);
  const candidates = await repo.listMajorityCandidates(
    ctx.db,
    { bornAfter: yearsBefore(today, 19), bornOnOrBefore: yearsBefore(today, 18) },
    options.limit,
  );
  const report: MajorityReport = { invited: 0, processed: 0 };
  for (const person of candidates) {
    if (majorityAt(person.birth_date) > now) continue;
    const invite = person.account_status === 'open' && person.activated_at === null;
    const done = await guarded(ctx, async (tx) => {
      if (!(await repo.markMajority(tx.db, person.id, now, invite))) return false;
      for (const rule of await repo.liveRepresentations(tx.db, person.id, now, 'legal_representative'))
        await endRepresentation(tx, SYSTEM, person.id, rule.id, { majority: true });
      if (invite) {
        const code = await issueProvisionalCode(tx, tx.db, person.id);
        await queueNotice(tx, tx.db, { patientId: person.id, kind: 'majority', code: code.code });
      }
      await recordAuditEvent(tx.db, {
        patientId: person.id,
        recordedAt: now,
        actor: { kind: 'system', id: null, display: SYSTEM.display, organizationId: null, clientId: null },
        action: 'update',
        entity: { type: 'Account', id: person.id },
        outcome: 'success',
        basis: 'system',
        reason: null,
        requestId: tx.requestId ?? null,
        details: { majority: true, invitedToActivate: invite },
      });
      return true;
    });
    if (done) {
      report.processed++;
      if (invite) report.invited++;
    }
  }
  return report;
}

/**
 * Registers the family jobs; returns the crons for the composition root to schedule.
 * @example for (const { name, cron } of registerFamilyJobs(jobs)) await worker.scheduleCron(name, cron);
 */
export function registerFamilyJobs(jobs: JobRegistry): Array<{ name: string; cron: string }> {
  registerJobHandler(jobs, 'family.majority', async (ctx) => {
    for (;;) {
      const report = await processMajorities(ctx, { limit: 500 });
      if (report.processed) ctx.log.info(report, 'majority: new adults processed');
      if (report.processed < 500) return;
    }
  });
  registerJobHandler(jobs, 'family.invitations-expire', async (ctx) => {
    const expired = await repo.expirePendingInvitations(ctx.db, ctx.clock.now());
    if (expired) ctx.log.info({ expired }, 'family invitations expired');
  });
  return [
    // Hourly: a birthday is picked up within the hour, and a missed run catches up by itself.
    { name: 'family.majority', cron: '15 * * * *' },
    { name: 'family.invitations-expire', cron: '*/30 * * * *' },
  ];
}
