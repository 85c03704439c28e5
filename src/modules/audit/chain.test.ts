import { describe, expect, it } from 'vitest';
import { masterKeyFrom } from '../../platform/crypto.ts';
import { canonicalJson, genesisHash, linkHash, NO_PATIENT_CHAIN, type ChainedEvent } from './chain.ts';
import { checkCheckpoint, headsDigest, signCheckpoint } from './checkpoint.ts';

const EVENT: ChainedEvent = {
  id: '0192f0c4-8f3a-7c1e-9a4b-3f2d1e0c9b8a',
  seq: '42',
  patientId: '0192f0c4-0000-7000-8000-000000000001',
  recordedAt: '2026-03-02T08:00:00.123456Z',
  actorKind: 'professional',
  actorId: '10101010101',
  actorDisplay: 'Jean Docteur',
  actorProfession: '10',
  onBehalfOf: null,
  organizationId: '0192f0c4-0000-7000-8000-000000000002',
  clientId: 'client-1',
  action: 'read',
  entityType: 'DocumentReference',
  entityId: '0192f0c4-0000-7000-8000-000000000003',
  outcome: 'success',
  basis: 'care-team',
  reason: null,
  requestId: 'req-1',
  details: { ids: ['a', 'b'], nested: { z: 1, a: 2 } },
};

describe('canonicalJson', () => {
  it.each([
    [{ b: 1, a: 2 }, '{"a":2,"b":1}'],
    [{ a: { d: [3, { y: 1, x: 2 }], c: null } }, '{"a":{"c":null,"d":[3,{"x":2,"y":1}]}}'],
    [{ a: undefined, b: 'é"' }, '{"b":"é\\""}'],
    [[1, 'x', true, null], '[1,"x",true,null]'],
  ])('%j → %s', (value, text) => {
    expect(canonicalJson(value)).toBe(text);
  });

  it('gives the same text whatever the key order', () => {
    expect(canonicalJson({ x: 1, y: { b: 2, a: 1 } })).toBe(canonicalJson({ y: { a: 1, b: 2 }, x: 1 }));
  });
});

describe('linkHash', () => {
  const genesis = genesisHash(EVENT.patientId as string);
  const base = linkHash(genesis, EVENT, 1);

  it('is a SHA-256', () => {
    expect(base).toHaveLength(32);
  });

  const changes: Array<[keyof ChainedEvent, unknown]> = [
    ['id', '0192f0c4-8f3a-7c1e-9a4b-3f2d1e0c9b8b'],
    ['seq', '43'],
    ['patientId', null],
    ['recordedAt', '2026-03-02T08:00:00.123457Z'],
    ['actorKind', 'patient'],
    ['actorId', '10101010102'],
    ['actorDisplay', 'Jean Docteur '],
    ['actorProfession', '60'],
    ['onBehalfOf', 'x'],
    ['organizationId', null],
    ['clientId', 'client-2'],
    ['action', 'update'],
    ['entityType', 'Binary'],
    ['entityId', null],
    ['outcome', 'denied'],
    ['basis', 'gp'],
    ['reason', 'x'],
    ['requestId', 'req-2'],
    ['details', { ids: ['a'], nested: { z: 1, a: 2 } }],
  ];
  it.each(changes)('changes when %s changes', (field, value) => {
    expect(linkHash(genesis, { ...EVENT, [field]: value }, 1).equals(base)).toBe(false);
  });

  it('hashes the event fields only, not what else the object carries', () => {
    const stored = { ...EVENT, chainIndex: 0, chainHash: null };
    expect(linkHash(genesis, stored, 1)).toEqual(base);
  });

  it('depends on the previous link and the place in the chain', () => {
    expect(linkHash(genesisHash(NO_PATIENT_CHAIN), EVENT, 1).equals(base)).toBe(false);
    expect(linkHash(genesis, EVENT, 2).equals(base)).toBe(false);
    expect(linkHash(genesis, { ...EVENT, details: { nested: { a: 2, z: 1 }, ids: ['a', 'b'] } }, 1)).toEqual(
      base,
    );
  });
});

describe('checkpoints', () => {
  const key = masterKeyFrom(Buffer.alloc(32, 7));
  const heads = new Map([
    ['b-chain', { index: 3, hash: Buffer.alloc(32, 2) }],
    ['a-chain', { index: 1, hash: Buffer.alloc(32, 1) }],
  ]);
  const cp = signCheckpoint(key, 'delta', new Date('2026-03-02T08:00:00Z'), heads);
  const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

  it('vouches for the heads and their digest', () => {
    expect(checkCheckpoint(key, bytes(cp))).toEqual({ status: 'valid', checkpoint: cp });
    expect(Object.keys(cp.heads)).toEqual(['a-chain', 'b-chain']);
    expect(cp.headsDigest).toBe(headsDigest(cp.heads));
  });

  it.each([
    ['a head moved back', { ...cp, heads: { ...cp.heads, 'b-chain': { index: 2, hash: '02'.repeat(32) } } }],
    ['a head dropped', { ...cp, heads: { 'a-chain': cp.heads['a-chain'] } }],
    ['the time changed', { ...cp, time: '2026-03-03T08:00:00.000Z' }],
    ['the signature replaced', { ...cp, signature: '00'.repeat(32) }],
  ])('is refused when %s', (_name, forged) => {
    expect(checkCheckpoint(key, bytes(forged))).toEqual({
      status: 'invalid',
      reason: 'signature does not match',
    });
  });

  it('is refused when unreadable, and set apart when signed with another key', () => {
    expect(checkCheckpoint(key, Buffer.from('{"version":1'))).toMatchObject({ status: 'invalid' });
    expect(checkCheckpoint(key, bytes({ ...cp, heads: 'x' }))).toMatchObject({ status: 'invalid' });
    const other = masterKeyFrom(Buffer.alloc(32, 8));
    expect(checkCheckpoint(other, bytes(cp))).toEqual({ status: 'other-key', keyId: key.id });
  });
});
