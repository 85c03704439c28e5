import { registerJobHandler, type JobRegistry } from '../notifications/index.ts';
import { eraseDueSpaces } from './erasure.ts';
import { openDueSpaces } from './lifecycle.ts';
import { closeDueSuspensions } from './suspension.ts';

/**
 * Registers the scheduled life events of spaces; returns the crons for the composition root:
 * spaces open after their opposition window, suspended spaces close after 6 weeks (both hourly),
 * closed spaces past their archive time are erased (nightly).
 * @example for (const { name, cron } of registerLifecycleJobs(runtime.jobs)) await worker.scheduleCron(name, cron);
 */
export function registerLifecycleJobs(jobs: JobRegistry): Array<{ name: string; cron: string }> {
  registerJobHandler(jobs, 'accounts.open-due-spaces', async (ctx) => {
    await openDueSpaces(ctx);
  });
  registerJobHandler(jobs, 'accounts.close-suspended', async (ctx) => {
    await closeDueSuspensions(ctx);
  });
  registerJobHandler(jobs, 'accounts.erase-due', async (ctx) => {
    const { failed } = await eraseDueSpaces(ctx);
    if (failed > 0) throw new Error(`${failed} space erasures failed (see the log); retried at the next run`);
  });
  return [
    { name: 'accounts.open-due-spaces', cron: '7 * * * *' },
    { name: 'accounts.close-suspended', cron: '17 * * * *' },
    { name: 'accounts.erase-due', cron: '30 3 * * *' },
  ];
}
