/**
 * Operator CLI: `npx carnet <command>`. Same modules and configuration as the server.
 *   migrate            apply pending migrations
 *   sweep [--grace S]  remove document files that have no record (default grace: CARNET_ORPHAN_GRACE_SECONDS)
 *   audit verify       check every audit chain and the signed checkpoints (exit 1 when one is broken)
 *   audit seal         seal the audit events still unsealed now, and write a checkpoint
 *   access check-matrix [FILE]  validate an access matrix file (default: the one in use)
 */
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from './config.ts';
import { accessMatrix, reloadAccessMatrix } from './modules/access/index.ts';
import {
  formatVerifyReport,
  progressBar,
  sealAuditEvents,
  verifyAuditChains,
} from './modules/audit/index.ts';
import { sweepOrphanBlobs } from './modules/documents/index.ts';
import { personCommand } from './modules/accounts/person.cli.ts';
import { populationCommand } from './modules/accounts/population.cli.ts';
import { DataDirLockedError } from './platform/data-dir-lock.ts';
import { createLogger } from './platform/logger.ts';
import { openRuntime, type Runtime } from './runtime.ts';

const USAGE = `Usage: carnet <command>
  migrate              apply pending database migrations
  sweep [--grace S]    remove document files without a record, older than S seconds
  audit verify [--unsealed-grace S] [--strict] [--json]
                       check every audit chain and the signed checkpoints; names the first
                       broken link of each chain. Exit 0: intact; 1: broken (or, with --strict,
                       events older than S seconds, default 300, still unsealed)
  audit seal           seal the audit events not sealed yet and write a signed checkpoint
  access check-matrix [FILE]
                       validate an access matrix file (default refdata/access/matrix.json);
                       a running server reloads its matrix on SIGHUP
  population import <file.csv> [--report FILE]
                       import the insurer's population file (see README)
  person show|reissue-code|suspend|close <matricule> …
                       operator commands on one person's space
  help                 this text`;

/** `carnet audit …`: returns the exit code. */
async function audit(runtime: Runtime, args: string[]): Promise<number> {
  const [sub, ...flags] = args;
  if (sub === 'seal') {
    const { sealed, heads } = await sealAuditEvents(runtime.ctx);
    process.stdout.write(`Sealed ${sealed} events in ${heads.size} chains.\n`);
    return 0;
  }
  const i = flags.indexOf('--unsealed-grace');
  const grace = i >= 0 ? Number(flags[i + 1]) : 300;
  if (!Number.isInteger(grace) || grace < 0) throw new Error('--unsealed-grace takes a number of seconds');
  const bar = progressBar(process.stderr);
  const report = await verifyAuditChains(runtime.ctx, {
    unsealedGraceSeconds: grace,
    onProgress: (done, total) => bar.update(done, total),
  });
  bar.end();
  process.stdout.write(
    flags.includes('--json') ? JSON.stringify(report, null, 2) + '\n' : formatVerifyReport(report),
  );
  return !report.ok || (flags.includes('--strict') && report.unsealed.count > 0) ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(USAGE + '\n');
    return command ? 0 : 2;
  }
  if (command === 'access' && rest[0] === 'check-matrix') {
    // Needs no database: parse and check the file only.
    const version = reloadAccessMatrix(rest[1] ? resolve(rest[1]) : undefined);
    const m = accessMatrix();
    process.stdout.write(`Access matrix ${version}: ${m.professions.length} professions, valid.\n`);
    return 0;
  }
  const auditCommand = command === 'audit' && (rest[0] === 'verify' || rest[0] === 'seal');
  const accountCommand = command === 'population' || command === 'person';
  if (command !== 'migrate' && command !== 'sweep' && !auditCommand && !accountCommand) {
    process.stderr.write(`Unknown command: ${command}\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig(process.env);
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const runtime = await openRuntime(config, log); // migrates
  try {
    if (command === 'migrate') {
      process.stdout.write('Database schema is up to date.\n');
    } else if (command === 'audit') {
      return await audit(runtime, rest);
    } else if (command === 'population') {
      return await populationCommand(runtime, rest);
    } else if (command === 'person') {
      return await personCommand(runtime, rest);
    } else {
      const i = rest.indexOf('--grace');
      const grace = i >= 0 ? Number(rest[i + 1]) : config.orphanGraceSeconds;
      if (!Number.isInteger(grace) || grace < 0) throw new Error('--grace takes a number of seconds');
      const { scanned, removed } = await sweepOrphanBlobs(runtime.ctx, { graceSeconds: grace });
      process.stdout.write(`Scanned ${scanned} files, removed ${removed} without a record.\n`);
    }
    return 0;
  } finally {
    await runtime.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message =
      err instanceof ConfigError || err instanceof DataDirLockedError || err instanceof Error
        ? err.message
        : String(err);
    process.stderr.write(`carnet: ${message}\n`);
    process.exit(1);
  },
);
