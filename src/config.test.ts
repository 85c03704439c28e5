import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const KEY = Buffer.alloc(32, 1).toString('base64');

describe('loadConfig', () => {
  it('defaults to the embedded footprint in demo mode', () => {
    const c = loadConfig({});
    expect(c.database.kind).toBe('pglite');
    expect(c.blobStore).toMatchObject({ kind: 'fs', fsync: false });
    expect(c.demo).toBe(true);
    expect(c.port).toBe(3000);
    expect(c.host).toBe('127.0.0.1');
    expect(c.baseUrl).toBe('http://127.0.0.1:3000');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('switches to PostgreSQL with fsync on and demo off', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u@h/db', CARNET_MASTER_KEY: KEY });
    expect(c.database).toMatchObject({ kind: 'postgres', url: 'postgres://u@h/db' });
    expect(c.blobStore).toMatchObject({ kind: 'fs', fsync: true });
    expect(c.demo).toBe(false);
  });

  it('takes an S3 blob store with PostgreSQL', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgres://u@h/db',
      CARNET_MASTER_KEY: KEY,
      BLOB_STORE: 's3://carnet-docs/prod',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
    });
    expect(c.blobStore).toMatchObject({
      kind: 's3',
      url: 's3://carnet-docs/prod',
      endpoint: 'http://127.0.0.1:9000',
    });
  });

  it('lists every problem at once, readably', () => {
    let err: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        CARNET_MASTER_KEY: 'short',
        LOG_LEVEL: 'loud',
        BLOB_STORE: 'ftp://x',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'DATABASE_URL', 'CARNET_MASTER_KEY', 'LOG_LEVEL', 'BLOB_STORE'])
      expect(problems).toContain(name);
    expect((err as Error).message).toMatch(/^Invalid configuration:\n {2}- /);
  });

  it('requires a master key with PostgreSQL, and PostgreSQL with S3', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u@h/db' })).toThrow(
      /CARNET_MASTER_KEY: is required with DATABASE_URL/,
    );
    expect(() => loadConfig({ BLOB_STORE: 's3://bucket-name' })).toThrow(
      /BLOB_STORE: an S3 blob store needs DATABASE_URL/,
    );
  });
});
