/**
 * The "floor" of ingestion: what the same storage work costs with nothing else around it — no HTTP,
 * no JSON, no validation, no hashing, no encryption. Per document it writes the same bytes to disk
 * the way the filesystem blob store does (temporary file, optional fsync, rename, optional directory
 * fsync), then commits one transaction holding an equivalent `documents` row (into a copy table,
 * `floor_docs`, created `like documents including all`) and the access gate's `audit_events` row.
 * The server can not be faster than this on the same machine; the ratio says how much it adds.
 */
import { PGlite } from '@electric-sql/pglite';
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { uuidv7 } from '../../src/platform/ids.ts';

/** The minimal database surface the floor needs: one statement, or a transaction of statements. */
export interface FloorDb {
  exec(sql: string): Promise<void>;
  query<T>(sql: string): Promise<T[]>;
  transaction(statements: Array<{ text: string; values: unknown[] }>): Promise<void>;
  close(): Promise<void>;
}

/**
 * A PostgreSQL pool of `size` connections.
 * @example const db = floorDbPostgres('postgres://postgres@127.0.0.1:5432/bench', 16);
 */
export function floorDbPostgres(url: string, size: number): FloorDb {
  const pool = new pg.Pool({ connectionString: url, max: size });
  return {
    exec: async (sql) => {
      await pool.query(sql);
    },
    query: async <T>(sql: string) => (await pool.query(sql)).rows as T[],
    transaction: async (statements) => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        for (const s of statements) await client.query(s.text, s.values);
        await client.query('commit');
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * PGlite on a data directory (a single connection: transactions run one at a time, as in the server).
 * @example const db = await floorDbPglite('/tmp/carnet-bench/db');
 */
export async function floorDbPglite(dir: string): Promise<FloorDb> {
  const pglite = await PGlite.create(dir);
  return {
    exec: async (sql) => {
      await pglite.exec(sql);
    },
    query: async <T>(sql: string) => (await pglite.query<T>(sql)).rows,
    transaction: async (statements) => {
      await pglite.transaction(async (tx) => {
        for (const s of statements) await tx.query(s.text, s.values);
      });
    },
    close: () => pglite.close(),
  };
}

export interface FloorOptions {
  db: FloorDb;
  /** An existing patient id (the rows look like that patient's documents). */
  patientId: string;
  /** Where the files go (a temporary directory). */
  blobDir: string;
  docs: number;
  /** Document size in bytes (the files written are that size plus the 29 bytes of sealing). */
  size: number;
  concurrency: number;
  fsync: boolean;
  onDone?: () => void;
}

const DOCUMENT_COLUMNS = [
  'patient_id',
  'id',
  'master_identifier',
  'status',
  'source',
  'type_system',
  'type_code',
  'type_display',
  'class_code',
  'category',
  'title',
  'document_date',
  'created_at',
  'updated_at',
  'author_professional_id',
  'author_organization_id',
  'author_display',
  'media_type',
  'format_code',
  'language',
  'size',
  'sha256',
  'sha1',
  'blob_key',
  'key_id',
  'wrapped_key',
  'confidentiality',
  'replaces_id',
  'submission_set_id',
  'read_at',
  'extra',
] as const;

const AUDIT_COLUMNS = [
  'id',
  'patient_id',
  'recorded_at',
  'actor_kind',
  'actor_id',
  'actor_display',
  'on_behalf_of',
  'organization_id',
  'client_id',
  'action',
  'entity_type',
  'entity_id',
  'outcome',
  'basis',
  'reason',
  'request_id',
  'details',
] as const;

const placeholders = (n: number): string => Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ');
const INSERT_DOCUMENT = `insert into floor_docs (${DOCUMENT_COLUMNS.join(', ')}) values (${placeholders(DOCUMENT_COLUMNS.length)})`;
const INSERT_AUDIT = `insert into audit_events (${AUDIT_COLUMNS.join(', ')}) values (${placeholders(AUDIT_COLUMNS.length)})`;

/** Creates the copy table (same columns, defaults, checks, indexes; no foreign keys). */
export async function prepareFloorTable(db: FloorDb): Promise<void> {
  await db.exec('drop table if exists floor_docs; create table floor_docs (like documents including all)');
}

/** Fixed filler for the values the server computes (hashes, wrapped key): the floor computes nothing. */
const SHA256 = randomBytes(32);
const SHA1 = randomBytes(20).toString('base64');
const WRAPPED_KEY = randomBytes(61);

function statementsFor(
  patientId: string,
  docId: string,
  seq: number,
  size: number,
): Array<{ text: string; values: unknown[] }> {
  const now = new Date();
  const doc: Record<(typeof DOCUMENT_COLUMNS)[number], unknown> = {
    patient_id: patientId,
    id: docId,
    master_identifier: `urn:oid:1.2.250.1.999.424242.${process.pid}.${Date.now()}.${seq}`,
    status: 'current',
    source: 'professional',
    type_system: 'http://loinc.org',
    type_code: '11488-4',
    type_display: 'Note de consultation',
    class_code: 'REPORTS',
    category: 'reports',
    title: 'Compte rendu de consultation',
    document_date: now,
    created_at: now,
    updated_at: now,
    author_professional_id: null,
    author_organization_id: null,
    author_display: 'Hélène Dubois',
    media_type: 'application/pdf',
    format_code: null,
    language: null,
    size,
    sha256: SHA256,
    sha1: SHA1,
    blob_key: `docs/${patientId}/${docId}`,
    key_id: 'mk-000000000000',
    wrapped_key: WRAPPED_KEY,
    confidentiality: ['N'],
    replaces_id: null,
    submission_set_id: null,
    read_at: null,
    extra: '{}',
  };
  const audit: Record<(typeof AUDIT_COLUMNS)[number], unknown> = {
    id: uuidv7(),
    patient_id: patientId,
    recorded_at: now,
    actor_kind: 'professional',
    actor_id: '10100000016',
    actor_display: 'Hélène Dubois',
    on_behalf_of: null,
    organization_id: null,
    client_id: 'demo-gp',
    action: 'create',
    entity_type: 'DocumentReference',
    entity_id: docId,
    outcome: 'success',
    basis: 'contribution',
    reason: null,
    request_id: uuidv7(),
    details: JSON.stringify({ created: [docId], replayed: [] }),
  };
  return [
    { text: INSERT_DOCUMENT, values: DOCUMENT_COLUMNS.map((c) => doc[c]) },
    { text: INSERT_AUDIT, values: AUDIT_COLUMNS.map((c) => audit[c]) },
  ];
}

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Same system calls as the filesystem blob store's put(). */
async function writeBlob(dir: string, name: string, data: Buffer, fsync: boolean): Promise<void> {
  const temp = join(dir, `.${name}.tmp-${randomBytes(8).toString('hex')}`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    if (fsync) await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, join(dir, name));
  if (fsync) await syncPath(dir);
}

/**
 * Runs `docs` file writes + transactions with `concurrency` workers; returns the wall time.
 * @example const { seconds } = await runFloor({ db, patientId, blobDir, docs: 1000, size: 102400, concurrency: 16, fsync: true });
 */
export async function runFloor(options: FloorOptions): Promise<{ seconds: number; docsPerSecond: number }> {
  const dir = join(options.blobDir, 'docs', options.patientId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const bytes = randomBytes(options.size + 29);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.docs) {
      const seq = next++;
      const docId = uuidv7();
      await writeBlob(dir, docId, bytes, options.fsync);
      await options.db.transaction(statementsFor(options.patientId, docId, seq, options.size));
      options.onDone?.();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { seconds, docsPerSecond: options.docs / seconds };
}
