import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { BlobStore } from './platform/blob-store.ts';
import { createFsBlobStore, sweepTempFiles } from './platform/blob-store.fs.ts';
import { createS3BlobStore } from './platform/blob-store.s3.ts';
import { systemClock, type Clock } from './platform/clock.ts';
import type { Ctx } from './platform/context.ts';
import { acquireDataDirLock, type DataDirLock } from './platform/data-dir-lock.ts';
import { migrateToLatest, openDatabase } from './platform/db/database.ts';
import { loadMasterKey } from './platform/master-key.ts';
import { createJobRegistry, notificationEvents, type JobRegistry } from './modules/notifications/index.ts';

/**
 * Opens everything a running Carnet needs — lock, database, migrations, blob store, keys — and
 * returns the root context plus one close(). Used by the server, the CLI and the tests alike.
 */
export interface Runtime {
  ctx: Ctx;
  /** Handlers of scheduled jobs (registerJobHandler), for the worker main.ts starts. */
  jobs: JobRegistry;
  close(): Promise<void>;
}

export async function openRuntime(
  config: Config,
  log: Logger,
  options: { clock?: Clock } = {},
): Promise<Runtime> {
  let lock: DataDirLock | undefined;
  const embedded = config.database.kind === 'pglite';
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  if (embedded || config.blobStore.kind === 'fs') lock = acquireDataDirLock(config.dataDir);
  try {
    const handle = await openDatabase(
      config.database.kind === 'pglite' ? { kind: 'pglite', dir: config.database.dir } : config.database,
    );
    const applied = await migrateToLatest(handle.db);
    if (applied.length) log.info({ migrations: applied }, 'migrations applied');
    let blobs: BlobStore;
    if (config.blobStore.kind === 'fs') {
      blobs = await createFsBlobStore({ root: config.blobStore.root, fsync: config.blobStore.fsync });
      await sweepTempFiles(config.blobStore.root, 0);
    } else {
      blobs = await createS3BlobStore({
        url: config.blobStore.url,
        region: config.blobStore.region,
        forcePathStyle: config.blobStore.forcePathStyle,
        ...(config.blobStore.endpoint ? { endpoint: config.blobStore.endpoint } : {}),
      });
    }
    const masterKey = loadMasterKey(config.masterKey, config.dataDir, (m) => log.warn(m));
    const clock = options.clock ?? systemClock;
    const ctx: Ctx = {
      db: handle.db,
      rootDb: handle.db,
      blobs,
      masterKey,
      clock,
      config,
      log,
      // Domain events become notification outbox rows, in the transaction that publishes them.
      events: notificationEvents(clock),
    };
    return {
      ctx,
      jobs: createJobRegistry(),
      close: async () => {
        await blobs.close();
        await handle.close();
        lock?.release();
      },
    };
  } catch (err) {
    lock?.release();
    throw err;
  }
}
