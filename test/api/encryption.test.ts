import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha1Base64, sha256 } from '../../src/platform/crypto.ts';
import { createTestRuntime, type TestRuntime } from '../harness.ts';
import { makePdf } from './files.ts';
import {
  auditRows,
  expectApiError,
  signedInPatient,
  uploaded,
  type ApiDocument,
  type ApiPatient,
} from './support.ts';

/**
 * Encryption at rest, seen from outside: the blob store holds only ciphertext, and any change to a
 * stored file — one flipped bit, a truncation, a file moved to another document — makes the
 * download fail with 500 `internal` before a single byte is served.
 */

let rt: TestRuntime;
let p: ApiPatient;

beforeAll(async () => {
  rt = await createTestRuntime();
  p = await signedInPatient(rt);
});
afterAll(async () => {
  await rt?.close();
});

const SECRET = 'Diagnostic: sérologie VIH positive, à annoncer en consultation.';

function plaintext(): Buffer {
  return Buffer.from(`${SECRET}\n`.repeat(40) + `${crypto.randomUUID()}\n`, 'utf8');
}

const blobPath = (owner: ApiPatient, doc: ApiDocument): string =>
  join(rt.dataDir, 'blobs', 'docs', owner.patient.id, doc.id);

const download = (owner: ApiPatient, doc: ApiDocument) =>
  rt.app.inject({ method: 'GET', url: doc.contentUrl, headers: { cookie: owner.cookie } });

async function uploadText(
  owner: ApiPatient,
  content = plaintext(),
): Promise<{ doc: ApiDocument; content: Buffer }> {
  const doc = await uploaded(rt.app, owner.cookie, {
    content,
    contentType: 'text/plain',
    filename: 'secret.txt',
  });
  return { doc, content };
}

/** The download failed closed: 500 internal, JSON, no content bytes, no attachment headers, still unread. */
async function expectIntegrityFailure(owner: ApiPatient, doc: ApiDocument): Promise<void> {
  const res = await download(owner, doc);
  expectApiError(res, 500, 'internal');
  expect(res.body).not.toContain(SECRET.slice(0, 20));
  expect(res.headers['content-disposition']).toBeUndefined();
  const meta = await rt.app.inject({
    method: 'GET',
    url: `/api/documents/${doc.id}`,
    headers: { cookie: owner.cookie },
  });
  expect(meta.json<ApiDocument>().read).toBe(false);
  // The refused download is on the trail as a failed read, not silently lost with the rollback.
  const failures = await auditRows(rt, { entityId: doc.id, outcome: 'failure' });
  expect(
    failures.some((r) => r.action === 'read' && r.entity_type === 'Binary' && r.reason === 'internal'),
  ).toBe(true);
}

describe('the stored file', () => {
  it('contains neither the plaintext nor its hashes', async () => {
    const { doc, content } = await uploadText(p);
    const stored = await readFile(blobPath(p, doc));
    expect(stored.length).toBeGreaterThan(content.length); // version, IV and tag around the ciphertext
    for (const needle of [
      content,
      content.subarray(0, 32),
      content.subarray(content.length - 32),
      Buffer.from(SECRET.slice(0, 16), 'utf8'),
      sha256(content),
      Buffer.from(sha256(content).toString('hex'), 'latin1'),
      Buffer.from(sha1Base64(content), 'latin1'),
    ]) {
      expect(stored.includes(needle)).toBe(false);
    }
    // And the round trip is exact.
    expect((await download(p, doc)).rawPayload.equals(content)).toBe(true);
  });

  it('differs for two uploads of the same bytes (a fresh key and IV each time)', async () => {
    const content = plaintext();
    const first = await uploadText(p, content);
    const second = await uploadText(p, content);
    const [a, b] = [await readFile(blobPath(p, first.doc)), await readFile(blobPath(p, second.doc))];
    expect(a.equals(b)).toBe(false);
  });
});

describe('tampering', () => {
  it.each([
    ['the version byte', (b: Buffer) => flip(b, 0)],
    ['the IV', (b: Buffer) => flip(b, 5)],
    ['the first ciphertext byte', (b: Buffer) => flip(b, 13)],
    ['a ciphertext byte in the middle', (b: Buffer) => flip(b, Math.floor(b.length / 2))],
    ['the authentication tag', (b: Buffer) => flip(b, b.length - 1)],
    ['a truncation', (b: Buffer) => b.subarray(0, b.length - 1)],
    ['an appended byte', (b: Buffer) => Buffer.concat([b, Buffer.from([0])])],
    ['an emptied file', () => Buffer.alloc(0)],
  ])('of %s makes the download fail with 500 internal', async (_, alter) => {
    const { doc } = await uploadText(p);
    const path = blobPath(p, doc);
    await writeFile(path, alter(await readFile(path)));
    await expectIntegrityFailure(p, doc);
  });

  it('of a removed file makes the download fail with 500 internal, not 404', async () => {
    const { doc } = await uploadText(p);
    await unlink(blobPath(p, doc));
    await expectIntegrityFailure(p, doc);
  });

  it("is detected when two documents' files are swapped", async () => {
    const content = plaintext();
    const one = (await uploadText(p, content)).doc;
    const two = (await uploadText(p, Buffer.from(content))).doc; // same size, same bytes: only the keys differ
    await rename(blobPath(p, one), `${blobPath(p, one)}.swap`);
    await rename(blobPath(p, two), blobPath(p, one));
    await rename(`${blobPath(p, one)}.swap`, blobPath(p, two));
    await expectIntegrityFailure(p, one);
    await expectIntegrityFailure(p, two);
  });

  it("is detected when another person's file is copied over mine", async () => {
    const other = await signedInPatient(rt);
    const mine = (await uploaded(rt.app, p.cookie, { content: makePdf() })) satisfies ApiDocument;
    const theirs = (await uploadText(other)).doc;
    await writeFile(blobPath(p, mine), await readFile(blobPath(other, theirs)));
    await expectIntegrityFailure(p, mine);
  });
});

function flip(buf: Buffer, at: number): Buffer {
  const copy = Buffer.from(buf);
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}
