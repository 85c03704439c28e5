/**
 * Blob storage for encrypted document contents. Two implementations share this interface:
 * files on disk (embedded default) and any S3-compatible object store (production).
 *
 * Blobs are opaque ciphertext here; encryption happens above (platform/crypto.ts).
 * Keys are relative, slash-separated, made only of [A-Za-z0-9._/-] and never contain "..".
 */
export interface BlobInfo {
  key: string;
  size: number;
  /** Last modification time, used by the orphan sweep's grace period. */
  modifiedAt: Date;
}

export interface BlobStore {
  readonly kind: 'fs' | 's3';
  /** Writes the blob durably (as durable as the backend allows) and atomically: readers never see half a blob. */
  put(key: string, data: Uint8Array): Promise<void>;
  /** Throws AppError('not_found') when absent. */
  get(key: string): Promise<Buffer>;
  /** Idempotent: deleting an absent blob succeeds. */
  delete(key: string): Promise<void>;
  /** Every blob whose key starts with prefix (all of them for ''). */
  list(prefix: string): AsyncIterable<BlobInfo>;
  close(): Promise<void>;
}

const KEY_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/**
 * Whether key is acceptable as a blob key (see assertValidBlobKey).
 *
 * @example isValidBlobKey('ab/cd/0190f2b4.bin') // true
 */
export function isValidBlobKey(key: string): boolean {
  return KEY_PATTERN.test(key) && !key.split('/').some((part) => part === '.' || part === '..');
}

/**
 * Refuses keys that could escape the store (path traversal) or be ambiguous. A bad key is a
 * programming error (keys are made by the application), so this throws a plain Error.
 *
 * @example assertValidBlobKey('../etc/passwd') // throws Error('Invalid blob key: "../etc/passwd"')
 */
export function assertValidBlobKey(key: string): void {
  if (!isValidBlobKey(key)) {
    throw new Error(`Invalid blob key: ${JSON.stringify(key)}`);
  }
}
