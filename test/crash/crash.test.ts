/**
 * Crash consistency of ingestion, on a real server process: a burst of ITI-105 publications from
 * 8 concurrent clients, `kill -9` after 40 acknowledgements, a restart on the same data directory
 * (stale lock taken over, orphan files swept), then:
 *  - every acknowledged document is there, with its exact bytes;
 *  - publishing every document of the burst again is idempotent (one document per masterIdentifier);
 *  - every file has its row and every row its file.
 * Also: a second server on a data directory in use refuses to start, with a clear message.
 *
 * PGlite by default; PostgreSQL when CARNET_TEST_DB=postgres (a fresh database per run).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { documentReference, makePdf, runOidPrefix } from '../../bench/lib/documents.ts';
import {
  createScratchDatabase,
  fetchToken,
  randomMasterKey,
  readDemo,
  removeDir,
  spawnServer,
  startServer,
  type ScratchDatabase,
  type ServerProcess,
} from '../server-process.ts';
import {
  masterIdentifierOf,
  publish,
  readBinary,
  readDocumentReference,
  searchAllDocuments,
} from './fhir-client.ts';
import { listDocumentFiles, readDocumentRows } from './storage.ts';

const backend = process.env.CARNET_TEST_DB === 'postgres' ? 'postgres' : 'pglite';
const CLIENTS = 8;
const BURST = 160;
const KILL_AFTER_ACKS = 40;
const DOC_SIZE = 20 * 1024;

interface BurstDoc {
  masterIdentifier: string;
  pdf: Buffer;
  body: string;
}

const cleanups: Array<() => Promise<unknown> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A data directory and, on PostgreSQL, a fresh database; both removed after the file. */
async function freshTarget(): Promise<{
  dataDir: string;
  env: Record<string, string>;
  db?: ScratchDatabase;
}> {
  const dataDir = mkdtempSync(join(tmpdir(), 'carnet-crash-'));
  cleanups.push(() => removeDir(dataDir));
  const env: Record<string, string> = { LOG_LEVEL: 'warn', CARNET_DEMO: 'true' };
  if (backend === 'pglite') return { dataDir, env };
  const db = await createScratchDatabase('carnet_crash');
  cleanups.push(() => db.drop());
  return { dataDir, env: { ...env, DATABASE_URL: db.url, CARNET_MASTER_KEY: randomMasterKey() }, db };
}

async function start(dataDir: string, env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServer({ dataDir, env });
  cleanups.push(() => server.kill9());
  return server;
}

/**
 * Sends the burst with CLIENTS workers and kills the server (SIGKILL) at the KILL_AFTER_ACKS-th 201.
 * Returns masterIdentifier → id of every 201 received, and any answer that was neither a 201 nor a
 * connection failure.
 */
async function burstThenKill(server: ServerProcess, token: string, docs: BurstDoc[]) {
  const acked = new Map<string, string>();
  const unexpected: string[] = [];
  let next = 0;
  let killed = false;
  const worker = async (): Promise<void> => {
    while (next < docs.length) {
      const doc = docs[next++] as BurstDoc;
      let outcome;
      try {
        outcome = await publish(server.url, token, doc.body);
      } catch {
        if (killed) return; // the connection died with the server
        throw new Error('publish failed before the kill');
      }
      if (outcome.status === 201 && outcome.id) {
        acked.set(doc.masterIdentifier, outcome.id);
        if (acked.size === KILL_AFTER_ACKS && !killed) {
          killed = true;
          server.child.kill('SIGKILL');
        }
      } else {
        unexpected.push(`HTTP ${outcome.status}: ${outcome.text.slice(0, 300)}`);
        if (killed) return;
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, worker));
  await server.kill9();
  return { acked, unexpected, sent: next };
}

describe(`crash consistency of ingestion (${backend})`, () => {
  it('keeps every acknowledged document across kill -9, replays idempotently, leaves no orphan file', async () => {
    const { dataDir, env, db } = await freshTarget();
    const first = await start(dataDir, env);
    const demo = readDemo(dataDir);
    const patient = demo.patients[0];
    const author = demo.professionals[0];
    if (!patient || !author) throw new Error('demo.json has no patient or professional');
    const oid = runOidPrefix();
    const docs: BurstDoc[] = Array.from({ length: BURST }, (_, i) => {
      const masterIdentifier = `urn:oid:${oid}.${i + 1}`;
      const pdf = makePdf(DOC_SIZE, `Crash test ${i + 1}`);
      return {
        masterIdentifier,
        pdf,
        body: JSON.stringify(documentReference({ masterIdentifier, patient, pdf })),
      };
    });
    const byMaster = new Map(docs.map((d) => [d.masterIdentifier, d]));

    const token = await fetchToken(first.url, author.clientId, author.clientSecret);
    const { acked, unexpected, sent } = await burstThenKill(first, token, docs);
    expect(unexpected).toEqual([]);
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(sent).toBeLessThan(BURST); // the kill did land mid-burst
    const afterKill = listDocumentFiles(join(dataDir, 'blobs'));
    // Whether the kill left orphans is a matter of timing: plant one, and a temporary file, to be sure.
    const patientDir = afterKill.documents[0]?.split('/')[0] as string;
    const planted = [
      `${patientDir}/${randomUUID()}`,
      `${patientDir}/.${randomUUID()}.tmp-${randomBytes(8).toString('hex')}`,
    ];
    for (const f of planted) writeFileSync(join(dataDir, 'blobs', 'docs', f), randomBytes(64));

    // Restart on the same data: the lock left by the killed process is taken over.
    const second = await start(dataDir, env);
    const afterRestart = listDocumentFiles(join(dataDir, 'blobs'));
    expect(afterRestart.temporary).toEqual([]);
    for (const f of planted) expect(existsSync(join(dataDir, 'blobs', 'docs', f)), `${f} swept`).toBe(false);
    const token2 = await fetchToken(second.url, author.clientId, author.clientSecret);

    for (const [masterIdentifier, id] of acked) {
      const read = await readDocumentReference(second.url, token2, id);
      expect(read.status, `DocumentReference/${id}`).toBe(200);
      expect(masterIdentifierOf(read.resource)).toBe(masterIdentifier);
      const binary = await readBinary(second.url, token2, id, 'application/pdf');
      expect(binary.status, `Binary/${id}`).toBe(200);
      expect(binary.bytes.equals((byMaster.get(masterIdentifier) as BurstDoc).pdf), `bytes of ${id}`).toBe(
        true,
      );
    }

    // Every document of the burst again, acknowledged or not: same id for the acknowledged ones.
    const resent = new Map<string, string>();
    let cursor = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (cursor < docs.length) {
          const doc = docs[cursor++] as BurstDoc;
          const outcome = await publish(second.url, token2, doc.body);
          expect([200, 201], `re-send ${doc.masterIdentifier}: ${outcome.text.slice(0, 300)}`).toContain(
            outcome.status,
          );
          resent.set(doc.masterIdentifier, outcome.id ?? '');
        }
      }),
    );
    for (const [masterIdentifier, id] of acked) expect(resent.get(masterIdentifier)).toBe(id);
    const found = await searchAllDocuments(second.url, token2, `urn:oid:${patient.insOid}|${patient.ins}`);
    const ours = found
      .map(masterIdentifierOf)
      .filter((m): m is string => m?.startsWith(`urn:oid:${oid}.`) === true);
    expect(ours.length).toBe(BURST);
    expect(new Set(ours).size).toBe(BURST);

    expect(await second.stop()).toEqual({ code: 0, signal: null });
    const rows = await readDocumentRows(
      db ? { kind: 'postgres', url: db.url } : { kind: 'pglite', dir: join(dataDir, 'db') },
    );
    const rowKeys = new Set(rows.map((r) => `${r.patient_id}/${r.id}`));
    const atEnd = listDocumentFiles(join(dataDir, 'blobs'));
    // No file without a row: not right after the restart's sweep, not at the end.
    expect(afterRestart.documents.filter((f) => !rowKeys.has(f))).toEqual([]);
    expect(atEnd.documents.filter((f) => !rowKeys.has(f))).toEqual([]);
    expect(atEnd.temporary).toEqual([]);
    // No row without its file.
    const files = new Set(atEnd.documents);
    expect(rows.filter((r) => !files.has(`${r.patient_id}/${r.id}`)).map((r) => r.blob_key)).toEqual([]);
    // One row per masterIdentifier of the burst, and the acknowledged ones kept their id.
    const ourRows = rows.filter((r) => byMaster.has(r.master_identifier));
    expect(ourRows.length).toBe(BURST);
    const idByMaster = new Map(ourRows.map((r) => [r.master_identifier, r.id]));
    for (const [masterIdentifier, id] of acked) expect(idByMaster.get(masterIdentifier)).toBe(id);

    const orphansSwept = afterKill.documents.filter((f) => !rowKeys.has(f)).length;
    console.info(
      `[crash ${backend}] sent ${sent}/${BURST}, acknowledged ${acked.size}; after the kill: ${afterKill.documents.length} files ` +
        `(${orphansSwept} orphans, ${afterKill.temporary.length} temporary, plus 2 planted), swept at restart`,
    );
  }, 55_000);

  it('refuses a second server on a data directory in use, with a clear message', async () => {
    const { dataDir, env } = await freshTarget();
    const running = await start(dataDir, env);
    const intruder = spawnServer({ ...running.env, PORT: '0' });
    cleanups.push(() => {
      intruder.child.kill('SIGKILL');
    });
    const status = await intruder.exited;
    expect(status.code).not.toBe(0);
    expect(status.code).not.toBeNull();
    expect(intruder.output()).toMatch(/in use by another Carnet process \(pid \d+\)/);
    // The first server is unharmed.
    const health = await fetch(`${running.url}/healthz`);
    expect(health.status).toBe(200);
  }, 30_000);
});
