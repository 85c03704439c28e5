/**
 * Operator CLI: `npx carnet <command>`. Same modules and configuration as the server.
 *   migrate            apply pending migrations
 *   sweep [--grace S]  remove document files that have no record (default grace: CARNET_ORPHAN_GRACE_SECONDS)
 */
import { ConfigError, loadConfig } from './config.ts';
import { sweepOrphanBlobs } from './modules/documents/index.ts';
import { DataDirLockedError } from './platform/data-dir-lock.ts';
import { createLogger } from './platform/logger.ts';
import { openRuntime } from './runtime.ts';

const USAGE = `Usage: carnet <command>
  migrate              apply pending database migrations
  sweep [--grace S]    remove document files without a record, older than S seconds
  help                 this text`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(USAGE + '\n');
    return command ? 0 : 2;
  }
  if (command !== 'migrate' && command !== 'sweep') {
    process.stderr.write(`Unknown command: ${command}\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig(process.env);
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const runtime = await openRuntime(config, log); // migrates
  try {
    if (command === 'migrate') {
      process.stdout.write('Database schema is up to date.\n');
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
