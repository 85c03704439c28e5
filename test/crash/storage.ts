/**
 * What a stopped server left on disk: the document files under <dataDir>/blobs/docs, and the
 * document rows of its database (PGlite directory opened directly, or PostgreSQL).
 */
import { PGlite } from '@electric-sql/pglite';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export interface StoredFiles {
  /** `<patientId>/<documentId>` of every document file. */
  documents: string[];
  /** Temporary files of interrupted writes (`.<name>.tmp-<hex>`). */
  temporary: string[];
}

/**
 * Lists the files of the filesystem blob store's `docs/` tree.
 * @example const { documents } = listDocumentFiles(join(dataDir, 'blobs'));
 */
export function listDocumentFiles(blobRoot: string): StoredFiles {
  const out: StoredFiles = { documents: [], temporary: [] };
  let patients: string[];
  try {
    patients = readdirSync(join(blobRoot, 'docs'));
  } catch {
    return out;
  }
  for (const patient of patients) {
    for (const name of readdirSync(join(blobRoot, 'docs', patient))) {
      if (name.startsWith('.')) out.temporary.push(`${patient}/${name}`);
      else out.documents.push(`${patient}/${name}`);
    }
  }
  return out;
}

export interface DocumentRowKey {
  patient_id: string;
  id: string;
  master_identifier: string;
  blob_key: string;
}

const QUERY = 'select patient_id::text, id::text, master_identifier, blob_key from documents order by id';

/**
 * Every document row, read straight from the database of a stopped server.
 * @example const rows = await readDocumentRows({ kind: 'pglite', dir: join(dataDir, 'db') });
 */
export async function readDocumentRows(
  target: { kind: 'pglite'; dir: string } | { kind: 'postgres'; url: string },
): Promise<DocumentRowKey[]> {
  if (target.kind === 'pglite') {
    const db = await PGlite.create(target.dir);
    try {
      return (await db.query<DocumentRowKey>(QUERY)).rows;
    } finally {
      await db.close();
    }
  }
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    return (await client.query<DocumentRowKey>(QUERY)).rows;
  } finally {
    await client.end();
  }
}
