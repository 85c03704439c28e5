/**
 * Composition root: config → runtime (lock, database, migrations, blobs, keys) → sweep → demo seed
 * → app → listen. `npm start` runs this file.
 */
import { buildApp } from './app.ts';
import { reloadAccessMatrix } from './modules/access/index.ts';
import { ConfigError, loadConfig } from './config.ts';
import { demoFilePath, seedDemo } from './demo.ts';
import { startAuditSealer } from './modules/audit/index.ts';
import { processDelayedReleases, sweepOrphanBlobs } from './modules/documents/index.ts';
import { registerJobHandler, startNotificationWorker } from './modules/notifications/index.ts';
import { registerLifecycleJobs, registerNoticeJobs } from './modules/accounts/index.ts';
import { registerFamilyJobs } from './modules/family/index.ts';
import { purgeStaleThrottles } from './modules/identity/index.ts';
import { DataDirLockedError } from './platform/data-dir-lock.ts';
import { createLogger } from './platform/logger.ts';
import { openRuntime } from './runtime.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Carnet cannot start.\n${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  let runtime;
  try {
    runtime = await openRuntime(config, log);
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      process.stderr.write(`Carnet cannot start: ${err.message}\n`);
      process.exit(3);
    }
    throw err;
  }
  const { ctx } = runtime;
  // With files on local disk this process holds the data-dir lock: no other writer is mid-flight,
  // so every file without a row is an orphan. With S3, other nodes may be writing: keep a grace period.
  const grace = config.blobStore.kind === 'fs' ? 0 : config.orphanGraceSeconds;
  await sweepOrphanBlobs(ctx, { graceSeconds: grace });
  const sweepTimer = setInterval(() => {
    sweepOrphanBlobs(ctx, { graceSeconds: config.orphanGraceSeconds }).catch((err: unknown) =>
      log.error({ err }, 'sweep failed'),
    );
  }, 3600_000);
  sweepTimer.unref();
  // Chains committed audit events every second, and checkpoints the chain heads (audit/seal.ts).
  const sealer = startAuditSealer(ctx);

  // Notification delivery and scheduled jobs (pg-boss on the same database); off with CARNET_WORKERS=false.
  registerJobHandler(runtime.jobs, 'documents.delayed-release', async (jobCtx) => {
    await processDelayedReleases(jobCtx);
  });
  registerJobHandler(runtime.jobs, 'identity.purge-throttles', async (jobCtx) => {
    await purgeStaleThrottles(jobCtx);
  });
  const crons = [
    // Delayed documents: the 2-week notice and the 1-month release are checked every 15 minutes.
    { name: 'documents.delayed-release', cron: '*/15 * * * *' },
    { name: 'identity.purge-throttles', cron: '40 4 * * *' },
    // Account notices (codes by e-mail or letter), spaces opened after the 6-week window, suspensions
    // closed after 6 weeks, erasures due; majority at 18 and expired invitations.
    ...registerNoticeJobs(runtime.jobs),
    ...registerLifecycleJobs(runtime.jobs),
    ...registerFamilyJobs(runtime.jobs),
  ];
  const worker = config.workers ? await startNotificationWorker(ctx, { jobs: runtime.jobs }) : undefined;
  for (const c of crons) await worker?.scheduleCron(c.name, c.cron);

  const demo = config.demo ? await seedDemo(ctx) : undefined;
  const app = await buildApp(ctx);
  await app.listen({ port: config.port, host: config.host });

  const out: string[] = [`\nCarnet is running at ${config.baseUrl}`];
  out.push(
    `  database: ${config.database.kind}${config.database.kind === 'pglite' ? ` (${config.database.dir})` : ''}; documents: ${config.blobStore.kind}`,
  );
  out.push(`  FHIR: ${config.baseUrl}/fhir/R4/metadata   API: ${config.baseUrl}/api/openapi.json`);
  if (demo) {
    out.push(`\nDemo identities (also in ${demoFilePath(config.dataDir)}):`);
    for (const p of demo.patients) {
      out.push(
        `  patient  ${p.given} ${p.family} (INS ${p.ins})${p.login ? `  login ${p.login}  password ${p.password}` : '  (child: managed by a parent)'}`,
      );
    }
    for (const p of demo.professionals) {
      out.push(
        `  pro      ${p.name}, ${p.profession} (RPPS ${p.rpps})  client_id ${p.clientId}  client_secret ${p.clientSecret}`,
      );
    }
  }
  if (demo?.toActivate) {
    const t = demo.toActivate;
    out.push(
      `  to activate  ${t.given} ${t.family} (matricule ${t.matricule}, health-card serial ${t.cardSerial}): ` +
        `the provisional code is in the notice at ${config.baseUrl}/dev/mail`,
    );
  }
  if (config.proOidc?.testProvider) {
    out.push(`\nProfessionals sign in at ${config.baseUrl}/pro/login (local OpenID Connect test provider).`);
  }
  process.stdout.write(out.join('\n') + '\n\n');

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    clearInterval(sweepTimer);
    await app.close();
    await worker?.stop({ graceful: true, timeoutMs: 5000 });
    await sealer.stop();
    await runtime.close();
    process.exit(0);
  };
  // An operator replaced refdata/access/matrix.json: reload it without a restart.
  process.on('SIGHUP', () => {
    try {
      log.info({ version: reloadAccessMatrix() }, 'access matrix reloaded');
    } catch (err) {
      log.error(
        { err },
        'access matrix NOT reloaded: the file is invalid; the previous version stays in force',
      );
    }
  });
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(
    `Carnet failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
