/**
 * Blob store on the local filesystem: one file per blob under `root`, key segments as directories.
 *
 * Writes go to a temporary file in the target directory, optionally fsynced, then renamed over the
 * final name (atomic on POSIX), and the directory is fsynced so the rename survives a crash.
 * Temporary files left by a crash are named `.<name>.tmp-<hex>`; list() skips them and
 * sweepTempFiles() removes them.
 *
 * Unlike S3, a directory cannot also be a file: with this store, keys `a` and `a/b` cannot
 * coexist (the second put throws AppError('conflict')). Callers use fixed-depth sharded keys.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';

import { AppError } from '../errors.ts';
import { assertValidBlobKey, isValidBlobKey, type BlobInfo, type BlobStore } from './blob-store.ts';

export interface FsBlobStoreOptions {
  /** Directory holding the blobs; created (mode 0700) if missing. */
  root: string;
  /** fsync files and directories on write. Turn off only for tests and throwaway data. */
  fsync: boolean;
}

/** Names of in-flight (or crash-abandoned) temporary files: `.<final name>.tmp-<16 hex>`. */
const TEMP_FILE_PATTERN = /^\..+\.tmp-[0-9a-f]{16}$/;

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/**
 * Opens (creating if needed) a filesystem blob store.
 *
 * @example
 * const store = await createFsBlobStore({ root: '/var/lib/carnet/blobs', fsync: true });
 * await store.put('ab/cd/0190f2b4', ciphertext);
 * const back = await store.get('ab/cd/0190f2b4');
 */
export async function createFsBlobStore(options: FsBlobStoreOptions): Promise<BlobStore> {
  const root = resolve(options.root);
  const rootWithSep = root.endsWith(sep) ? root : root + sep;
  const { fsync } = options;
  await mkdir(root, { recursive: true, mode: DIR_MODE });

  const pathOf = (key: string): string => {
    assertValidBlobKey(key);
    if (TEMP_FILE_PATTERN.test(basename(key))) {
      throw new Error(`Invalid blob key: ${JSON.stringify(key)} (reserved for temporary files)`);
    }
    const path = resolve(root, key);
    if (!path.startsWith(rootWithSep)) {
      throw new Error(`Invalid blob key: ${JSON.stringify(key)} (outside the store)`);
    }
    return path;
  };

  /** mkdir -p, then (when fsync) persist the entries of every directory it created. */
  const ensureDir = async (dir: string, key: string): Promise<void> => {
    let firstCreated: string | undefined;
    try {
      firstCreated = await mkdir(dir, { recursive: true, mode: DIR_MODE });
    } catch (err) {
      if (hasCode(err, 'ENOTDIR', 'EEXIST')) throw collision(key);
      throw err;
    }
    if (firstCreated === undefined || !fsync) return;
    const stop = dirname(firstCreated);
    for (let d = dirname(dir); ; d = dirname(d)) {
      await syncDirectory(d);
      if (d === stop || d === dirname(d)) break;
    }
  };

  return {
    kind: 'fs',

    async put(key, data) {
      const path = pathOf(key);
      const dir = dirname(path);
      await ensureDir(dir, key);
      const temp = join(dir, `.${basename(path)}.tmp-${randomBytes(8).toString('hex')}`);
      try {
        const handle = await open(temp, 'wx', FILE_MODE);
        try {
          await handle.writeFile(data);
          if (fsync) await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, path);
      } catch (err) {
        await rm(temp, { force: true });
        if (hasCode(err, 'EISDIR', 'ENOTDIR', 'ENOTEMPTY', 'EEXIST')) throw collision(key);
        throw err;
      }
      if (fsync) await syncDirectory(dir);
    },

    async get(key) {
      const path = pathOf(key);
      try {
        return await readFile(path);
      } catch (err) {
        if (hasCode(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) throw new AppError('not_found', 'Blob not found');
        throw err;
      }
    },

    async delete(key) {
      const path = pathOf(key);
      try {
        await unlink(path);
      } catch (err) {
        // Absent, or a directory (which is not a blob): nothing to delete.
        if (hasCode(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) return;
        throw err;
      }
      if (fsync) await syncDirectory(dirname(path));
    },

    async *list(prefix): AsyncGenerator<BlobInfo> {
      // Start from the deepest directory the prefix names, and only descend where keys can match.
      const slash = prefix.lastIndexOf('/');
      const startDir = slash === -1 ? '' : prefix.slice(0, slash);
      if (startDir !== '' && !isValidBlobKey(startDir)) return;
      const shouldDescend = (dirKey: string): boolean =>
        `${dirKey}/`.startsWith(prefix) || prefix.startsWith(`${dirKey}/`);
      for await (const file of walkFiles(root, startDir, shouldDescend)) {
        if (TEMP_FILE_PATTERN.test(file.name) || !file.key.startsWith(prefix) || !isValidBlobKey(file.key)) {
          continue;
        }
        const info = await statIfPresent(file.path);
        if (info) yield { key: file.key, size: info.size, modifiedAt: info.mtime };
      }
    },

    async close() {
      // Nothing held open between calls.
    },
  };
}

/**
 * Removes temporary files older than `olderThanMs` left under `root` by interrupted writes.
 * Returns how many were removed. Younger ones may belong to a write in progress and are kept.
 *
 * @example
 * const removed = await sweepTempFiles('/var/lib/carnet/blobs', 60 * 60 * 1000);
 */
export async function sweepTempFiles(
  root: string,
  olderThanMs: number,
  now: Date = new Date(),
): Promise<number> {
  const cutoff = now.getTime() - olderThanMs;
  let removed = 0;
  for await (const file of walkFiles(resolve(root), '', () => true)) {
    if (!TEMP_FILE_PATTERN.test(file.name)) continue;
    const info = await statIfPresent(file.path);
    if (info && info.mtime.getTime() < cutoff) {
      await rm(file.path, { force: true });
      removed += 1;
    }
  }
  return removed;
}

interface WalkedFile {
  /** Slash-separated path relative to the root. */
  key: string;
  path: string;
  name: string;
}

/** Regular files under root/relDir, depth first, names in sorted order. Vanished directories are skipped. */
async function* walkFiles(
  root: string,
  relDir: string,
  shouldDescend: (dirKey: string) => boolean,
): AsyncGenerator<WalkedFile> {
  let entries;
  try {
    entries = await readdir(relDir === '' ? root : join(root, relDir), { withFileTypes: true });
  } catch (err) {
    if (hasCode(err, 'ENOENT', 'ENOTDIR')) return;
    throw err;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const key = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (shouldDescend(key)) yield* walkFiles(root, key, shouldDescend);
    } else if (entry.isFile()) {
      yield { key, path: join(root, key), name: entry.name };
    }
  }
}

async function statIfPresent(path: string): Promise<{ size: number; mtime: Date } | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (hasCode(err, 'ENOENT')) return undefined;
    throw err;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function collision(key: string): AppError {
  return new AppError('conflict', `Blob key ${key} collides with an existing blob or directory`);
}

function hasCode(err: unknown, ...codes: string[]): boolean {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' && codes.includes(err.code);
}
