import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/platform/blob-store.ts';
import { createS3BlobStore } from '../../src/platform/blob-store.s3.ts';
import { createTestRuntime, type TestRuntime } from '../harness.ts';
import { startS3Server, type TestS3Server } from '../s3-server.ts';
import { makeTxt } from './files.ts';
import {
  blobFiles,
  expectApiError,
  signedInPatient,
  upload,
  uploaded,
  type ApiDocument,
  type ApiPatient,
} from './support.ts';

/** The patient flow — upload, download, delete — with the S3 blob store, on a throwaway s3rver. */

const PREFIX = 'carnet/blobs';
let s3: TestS3Server;
let store: BlobStore;
let raw: S3Client;
let rt: TestRuntime;
let p: ApiPatient;

beforeAll(async () => {
  s3 = await startS3Server();
  const credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
  store = await createS3BlobStore({
    url: `s3://${s3.bucket}/${PREFIX}`,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    region: s3.region,
    ...credentials,
  });
  raw = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: s3.region, credentials });
  rt = await createTestRuntime({ blobs: async () => store });
  p = await signedInPatient(rt);
});
afterAll(async () => {
  raw?.destroy();
  await rt?.close(); // closes the store too
  await s3?.close();
});

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.list(prefix)) keys.push(info.key);
  return keys;
}

const objectKey = (doc: ApiDocument): string => `${PREFIX}/docs/${p.patient.id}/${doc.id}`;

describe('with the S3 blob store', () => {
  it('uploads, downloads and deletes a document', async () => {
    const content = makeTxt('Compte rendu stocké sur S3');
    const doc = await uploaded(rt.app, p.cookie, { content, contentType: 'text/plain', filename: 'cr.txt' });
    expect(await keysUnder(`docs/${p.patient.id}/`)).toContain(`docs/${p.patient.id}/${doc.id}`);
    expect(await blobFiles(rt)).toEqual([]); // nothing on the local disk

    const object = await raw.send(new GetObjectCommand({ Bucket: s3.bucket, Key: objectKey(doc) }));
    const stored = Buffer.from(
      await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    expect(stored.includes(content.subarray(0, 24))).toBe(false);

    const res = await rt.app.inject({ method: 'GET', url: doc.contentUrl, headers: { cookie: p.cookie } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.rawPayload.equals(content)).toBe(true);

    const del = await rt.app.inject({
      method: 'DELETE',
      url: `/api/documents/${doc.id}`,
      headers: { cookie: p.cookie },
    });
    expect(del.statusCode).toBe(204);
    expect(await keysUnder(`docs/${p.patient.id}/${doc.id}`)).toEqual([]);
    await expect(store.get(`docs/${p.patient.id}/${doc.id}`)).rejects.toMatchObject({ code: 'not_found' });
    const gone = await rt.app.inject({ method: 'GET', url: doc.contentUrl, headers: { cookie: p.cookie } });
    expectApiError(gone, 404, 'not_found');
  });

  it('stores one object for two uploads with the same Idempotency-Key', async () => {
    const before = (await keysUnder(`docs/${p.patient.id}/`)).length;
    const content = makeTxt();
    const options = { content, contentType: 'text/plain', headers: { 'idempotency-key': 's3-idempotent-1' } };
    const first = await uploaded(rt.app, p.cookie, options);
    const again = await upload(rt.app, p.cookie, options);
    expect(again.statusCode).toBe(200);
    expect(again.json<ApiDocument>().id).toBe(first.id);
    expect((await keysUnder(`docs/${p.patient.id}/`)).length).toBe(before + 1);
  });

  it.each([
    [
      'overwritten behind our back',
      (doc: ApiDocument) =>
        raw.send(
          new PutObjectCommand({ Bucket: s3.bucket, Key: objectKey(doc), Body: Buffer.from('tampered') }),
        ),
    ],
    [
      'removed behind our back',
      (doc: ApiDocument) => raw.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: objectKey(doc) })),
    ],
  ])('fails the download with 500 internal when the object was %s, revealing nothing', async (_, alter) => {
    const doc = await uploaded(rt.app, p.cookie, { content: makeTxt(), contentType: 'text/plain' });
    await alter(doc);
    const res = await rt.app.inject({ method: 'GET', url: doc.contentUrl, headers: { cookie: p.cookie } });
    expectApiError(res, 500, 'internal');
    expect(res.body).not.toContain(p.patient.id);
    expect(res.body).not.toContain('docs/');
  });

  it("detects another document's object put in place of this one", async () => {
    const one = await uploaded(rt.app, p.cookie, { content: makeTxt(), contentType: 'text/plain' });
    const two = await uploaded(rt.app, p.cookie, { content: makeTxt(), contentType: 'text/plain' });
    await store.put(`docs/${p.patient.id}/${one.id}`, await store.get(`docs/${p.patient.id}/${two.id}`));
    const res = await rt.app.inject({ method: 'GET', url: one.contentUrl, headers: { cookie: p.cookie } });
    expectApiError(res, 500, 'internal');
  });
});
