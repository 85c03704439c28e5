import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dumpPgliteImage, migrateToLatest, openDatabase } from '../src/platform/db/database.ts';

/**
 * Migrates an in-memory PGlite once for the whole run and saves its image; each test file then
 * starts from that image (about 0.5 s) instead of creating and migrating a database (2–3 s).
 */
export default async function setup(): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'carnet-image-'));
  const handle = await openDatabase({ kind: 'pglite', dir: undefined });
  await migrateToLatest(handle.db);
  const image = await dumpPgliteImage(handle);
  await handle.close();
  const path = join(dir, 'migrated.tar');
  writeFileSync(path, Buffer.from(await image.arrayBuffer()));
  process.env.CARNET_TEST_PGLITE_IMAGE = path;
  return () => rmSync(dir, { recursive: true, force: true });
}
