import { randomFillSync } from 'node:crypto';

let lastMs = 0;
let counter = 0;

// Randomness drawn 4 KiB at a time: one system call per 256 ids instead of one per id (bulk imports
// make millions). Each byte is used once.
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

function random(n: number): Buffer {
  if (poolAt + n > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const out = Buffer.from(pool.subarray(poolAt, poolAt + n));
  poolAt += n;
  return out;
}

/**
 * A UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then randomness, so ids sort by creation
 * time (good B-tree locality) and are made by the application, not the database.
 * Monotonic within a process: a 12-bit counter in rand_a orders ids created in the same millisecond.
 * @example const id = uuidv7(); // '0192f0c4-8f3a-7c1e-9a4b-3f2d1e0c9b8a'
 */
export function uuidv7(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = random(2).readUInt16BE(0) & 0x7ff; // start low so the counter rarely overflows
  } else {
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
  }
  const ms = lastMs;
  const bytes = random(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** True for a canonical lowercase UUID; used to refuse malformed ids before they reach SQL. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
