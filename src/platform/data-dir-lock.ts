import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An exclusive lock on the embedded data directory. PGlite holds no lock of its own, and two
 * processes on one PGlite directory corrupt it, so a second start must fail clearly.
 *
 * The lock is a file created with O_EXCL holding the owner's pid. A lock left by a process that
 * died (kill -9, crash) is detected — its pid no longer runs — and taken over.
 * @example const lock = acquireDataDirLock('./data'); … lock.release();
 */
export interface DataDirLock {
  readonly path: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class DataDirLockedError extends Error {
  readonly pid: number;
  constructor(dir: string, pid: number) {
    super(
      `The data directory ${dir} is in use by another Carnet process (pid ${pid}). ` +
        `Stop it first, or set CARNET_DATA_DIR to another directory.`,
    );
    this.pid = pid;
  }
}

export function acquireDataDirLock(dir: string): DataDirLock {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'carnet.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
      process.once('exit', release);
      return { path, release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new DataDirLockedError(dir, pid);
      }
      // Stale lock from a dead process (or unreadable): remove it and try again.
      try {
        unlinkSync(path);
      } catch {
        /* raced with another starter; retry */
      }
    }
  }
  throw new Error(`Could not acquire the lock on ${dir}`);
}
