import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect, type Transaction } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { migrations } from './migrations/index.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** A connection that may or may not be inside a transaction. */
export type Queryable = Db | Tx;

export type DatabaseOptions =
  | {
      kind: 'pglite';
      dir: string | undefined /* undefined: in memory */;
      /** A data-directory image (PGlite dumpDataDir) to start from, e.g. an already-migrated schema. */
      image?: Blob;
    }
  | { kind: 'postgres'; url: string; poolSize: number };

export interface DatabaseHandle {
  readonly db: Db;
  readonly kind: 'pglite' | 'postgres';
  close(): Promise<void>;
}

// Postgres returns bigint as string and dates as Date; keep `date` columns as 'YYYY-MM-DD' strings.
pg.types.setTypeParser(1082, (v: string) => v);

/**
 * Opens the database: PGlite in-process (embedded default) or a PostgreSQL pool (production).
 * Same Kysely schema, same migrations.
 * @example const h = await openDatabase({ kind: 'pglite', dir: undefined }); await migrateToLatest(h.db);
 */
export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.kind === 'pglite') {
    const pglite = await PGlite.create(options.dir ?? 'memory://', {
      parsers: { 1082: (v: string) => v },
      ...(options.image ? { loadDataDir: options.image } : {}),
    });
    const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
    const handle: DatabaseHandle = {
      db,
      kind: 'pglite',
      close: async () => {
        await db.destroy();
        if (!pglite.closed) await pglite.close();
      },
    };
    pglites.set(handle, pglite);
    pglitesByDb.set(db, pglite);
    return handle;
  }
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize });
  // pool.end() resolves once it has asked its clients to disconnect, not once they have; pg-pool emits
  // 'remove' when a client's end completes. close() waits for that, so nothing of ours stays connected
  // (a database dropped right after close() would otherwise kill a client still ending: an unhandled error).
  let connected = 0;
  let onAllRemoved: (() => void) | undefined;
  pool.on('connect', () => void connected++);
  pool.on('remove', () => {
    connected--;
    if (connected === 0) onAllRemoved?.();
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: 'postgres',
    close: async () => {
      const allRemoved =
        connected === 0 ? Promise.resolve() : new Promise<void>((resolve) => (onAllRemoved = resolve));
      await db.destroy();
      await allRemoved;
    },
  };
}

/** Dumps an in-memory PGlite database as an image that openDatabase({ image }) can start from. */
export async function dumpPgliteImage(handle: DatabaseHandle): Promise<Blob> {
  const pglite = await getPglite(handle);
  return pglite.dumpDataDir('none');
}

const pglites = new WeakMap<DatabaseHandle, PGlite>();
const pglitesByDb = new WeakMap<Db, PGlite>();

/**
 * The PGlite instance behind an embedded database (undefined for PostgreSQL), for libraries that
 * share it, e.g. the job queue. Never run statements on it while a Kysely transaction on the same
 * instance is waiting on them: PGlite has one session, and its transactions are exclusive.
 * @example const pglite = pgliteOf(ctx.rootDb); if (pglite) await pglite.query('select 1');
 */
export function pgliteOf(db: Db): PGlite | undefined {
  return pglitesByDb.get(db);
}

async function getPglite(handle: DatabaseHandle): Promise<PGlite> {
  const p = pglites.get(handle);
  if (!p) throw new Error('not a PGlite database');
  return p;
}

/** Runs every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(
      `Migration ${failed} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * True when PostgreSQL refused a text or jsonb value it cannot store — a NUL character (SQLSTATE
 * 22021, or 22P05 for \u0000 in jsonb), on both drivers. Such a value comes from the request.
 * @example isUnstorableText(err) // true for an insert of 'a\u0000b'
 */
export function isUnstorableText(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === '22021' || code === '22P05';
}

/** True when err is a unique-constraint violation (SQLSTATE 23505), on both drivers. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}
