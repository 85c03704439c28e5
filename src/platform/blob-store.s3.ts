/**
 * Blob store on any S3-compatible object store (AWS S3, MinIO, Garage, Scaleway, OVH...).
 *
 * A PutObject is atomic on S3: readers see the old object or the new one, never a part. Each
 * object carries the SHA-256 of its contents in its metadata (`x-amz-meta-sha256`), checked on
 * every get, so a blob altered or truncated behind our back is refused rather than served.
 */
import { createHash } from 'node:crypto';

import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';

import { AppError } from '../errors.ts';
import { assertValidBlobKey, isValidBlobKey, type BlobInfo, type BlobStore } from './blob-store.ts';

export interface S3BlobStoreOptions {
  /** `s3://bucket` or `s3://bucket/some/prefix`; blob keys are stored under the prefix. */
  url: string;
  /** For S3-compatible services, e.g. `https://s3.fr-par.scw.cloud` or `http://127.0.0.1:9000`. */
  endpoint?: string;
  region?: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO and most self-hosted stores). */
  forcePathStyle?: boolean;
  /** Both or neither; without them the SDK default chain applies (env, profile, instance role...). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Keys per ListObjectsV2 page (S3 caps it at 1000). Smaller values are for tests. */
  listPageSize?: number;
}

const METADATA_SHA256 = 'sha256';
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

/**
 * Splits an `s3://bucket/prefix` URL. The prefix comes back without leading slash and, when not
 * empty, with exactly one trailing slash, ready to be put in front of blob keys.
 *
 * @example
 * parseS3Url('s3://carnet-prod/blobs') // { bucket: 'carnet-prod', prefix: 'blobs/' }
 * parseS3Url('s3://carnet-prod') // { bucket: 'carnet-prod', prefix: '' }
 */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  const bucket = match?.[1];
  if (match === null || bucket === undefined || !BUCKET_PATTERN.test(bucket)) {
    throw new AppError(
      'invalid_input',
      `Invalid S3 URL ${JSON.stringify(url)}: expected s3://bucket[/prefix]`,
      'url',
    );
  }
  const path = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (path !== '' && !isValidBlobKey(path)) {
    throw new AppError('invalid_input', `Invalid S3 URL ${JSON.stringify(url)}: bad prefix`, 'url');
  }
  return { bucket, prefix: path === '' ? '' : `${path}/` };
}

/**
 * Connects to the bucket (checking that it is reachable, so a bad configuration fails at boot)
 * and returns an S3 blob store.
 *
 * @example
 * const store = await createS3BlobStore({ url: 's3://carnet-prod/blobs', region: 'eu-west-3' });
 * await store.put('ab/cd/0190f2b4', ciphertext);
 */
export async function createS3BlobStore(options: S3BlobStoreOptions): Promise<BlobStore> {
  const { bucket, prefix: storePrefix } = parseS3Url(options.url);
  if ((options.accessKeyId === undefined) !== (options.secretAccessKey === undefined)) {
    throw new AppError('invalid_input', 'S3 accessKeyId and secretAccessKey go together', 'accessKeyId');
  }
  const pageSize = options.listPageSize ?? 1000;

  const config: S3ClientConfig = {
    // s3rver (and some other S3-compatible servers) mishandle the SDK's default flexible
    // checksums (aws-chunked bodies with trailers); integrity is checked with our own SHA-256.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  if (options.region !== undefined) config.region = options.region;
  if (options.forcePathStyle !== undefined) config.forcePathStyle = options.forcePathStyle;
  if (options.accessKeyId !== undefined && options.secretAccessKey !== undefined) {
    config.credentials = { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey };
  }
  const client = new S3Client(config);

  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    client.destroy();
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new AppError('unavailable', `S3 bucket ${bucket} is not reachable (${reason})`);
  }

  const objectKey = (key: string): string => {
    assertValidBlobKey(key);
    return storePrefix + key;
  };

  return {
    kind: 's3',

    async put(key, data) {
      const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: objectKey(key),
          Body: body,
          ContentLength: body.byteLength,
          ContentType: 'application/octet-stream',
          Metadata: { [METADATA_SHA256]: sha256Hex(body) },
        }),
      );
    },

    async get(key) {
      let response;
      try {
        response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
      } catch (err) {
        if (isMissingObject(err)) throw new AppError('not_found', 'Blob not found');
        throw err;
      }
      if (response.Body === undefined) throw new AppError('internal', `Blob ${key} came back without a body`);
      const bytes = await response.Body.transformToByteArray();
      const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      // A missing checksum counts as a mismatch: every object written by this store has one.
      if (response.Metadata?.[METADATA_SHA256] !== sha256Hex(data)) {
        throw new AppError('internal', `Blob checksum mismatch for ${key}`);
      }
      return data;
    },

    async delete(key) {
      // DeleteObject succeeds on absent keys.
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
    },

    async *list(prefix): AsyncGenerator<BlobInfo> {
      let continuationToken: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: storePrefix + prefix,
            MaxKeys: pageSize,
            ContinuationToken: continuationToken,
          }),
        );
        for (const object of page.Contents ?? []) {
          const key = object.Key?.slice(storePrefix.length);
          // Objects that are not ours (not valid blob keys) are invisible, as on the filesystem.
          if (key === undefined || !isValidBlobKey(key)) continue;
          yield { key, size: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) };
        }
        if (page.IsTruncated === true && page.NextContinuationToken === undefined) {
          throw new AppError('internal', `S3 listing of ${bucket} is truncated without a continuation token`);
        }
        continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (continuationToken !== undefined);
    },

    async close() {
      client.destroy();
    },
  };
}

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function isMissingObject(err: unknown): boolean {
  if (err instanceof NoSuchKey) return true;
  // Some S3-compatible servers answer a bare 404 instead of the NoSuchKey error code.
  return (
    err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404 && err.name !== 'NoSuchBucket'
  );
}
