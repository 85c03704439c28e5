/**
 * Test helper: a throwaway S3-compatible server (s3rver) on a free loopback port, storing its
 * objects in a fresh temporary directory that is removed on close.
 *
 * s3rver runs in a child Node process started with --openssl-legacy-provider: it encrypts
 * ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers through its legacy
 * provider, so without the flag every truncated listing fails with InternalError.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestS3Server {
  /** e.g. http://127.0.0.1:41234 — use with forcePathStyle: true. */
  endpoint: string;
  bucket: string;
  /** The credentials s3rver accepts (it checks request signatures). */
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  close(): Promise<void>;
}

/** Runs in the child (CommonJS, via -e): argv = [s3rver module path, directory, bucket]. */
const CHILD_SCRIPT = `
const [modulePath, directory, bucket] = process.argv.slice(1);
const S3rver = require(modulePath);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory,
  configureBuckets: [{ name: bucket }] });
server.run().then(
  (address) => process.stdout.write(JSON.stringify({ port: address.port }) + '\\n'),
  (err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); },
);
process.on('SIGTERM', () => server.close().finally(() => process.exit(0)));
// Our stdin is a pipe from the test process: when it closes (even on a crash), stop.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`;

const STARTUP_TIMEOUT_MS = 10_000;

/**
 * Starts s3rver with one empty bucket.
 *
 * @example
 * const s3 = await startS3Server();
 * const store = await createS3BlobStore({ url: `s3://${s3.bucket}/blobs`, endpoint: s3.endpoint,
 *   forcePathStyle: true, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
 * // ...
 * await s3.close();
 */
export async function startS3Server(options: { bucket?: string } = {}): Promise<TestS3Server> {
  const bucket = options.bucket ?? 'carnet-test';
  const directory = await mkdtemp(join(tmpdir(), 'carnet-s3rver-'));
  const modulePath = createRequire(import.meta.url).resolve('s3rver');
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '-e', CHILD_SCRIPT, modulePath, directory, bucket],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );

  let port: number;
  try {
    port = await readPort(child);
  } catch (err) {
    await stop(child);
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    region: 'us-east-1',
    async close() {
      try {
        await stop(child);
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    },
  };
}

/** Waits for the child's `{"port":N}` line; fails on early exit or after a timeout. */
function readPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => finish(new Error('s3rver did not start in time')), STARTUP_TIMEOUT_MS);
    const finish = (error: Error | undefined, port?: number): void => {
      clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      child.removeAllListeners('exit');
      child.stdout?.resume();
      if (error) reject(error);
      else resolve(port as number);
    };
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line !== undefined) {
        const parsed = JSON.parse(line) as { port: number };
        finish(undefined, parsed.port);
      }
    });
    child.on('exit', (code) => finish(new Error(`s3rver exited with code ${code}: ${stderr}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}
