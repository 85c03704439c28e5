import { describe, expect, it } from 'vitest';
import { counterMovesForward, knownTransports, passkeyName, relyingParty } from './passkey.ts';

describe('relyingParty', () => {
  it.each([
    ['http://localhost:3000', 'localhost', 'http://localhost:3000'],
    ['https://carnet.example.fr', 'carnet.example.fr', 'https://carnet.example.fr'],
    ['https://carnet.example.fr:8443/app', 'carnet.example.fr', 'https://carnet.example.fr:8443'],
  ])('%s → RP ID %s, origin %s', (baseUrl, rpID, origin) => {
    expect(relyingParty({ baseUrl })).toEqual({ rpID, origin });
  });
});

describe('counterMovesForward', () => {
  it.each([
    [0, 0, true],
    [0, 1, true],
    [5, 6, true],
    [5, 5, false],
    [5, 4, false],
    [5, 0, false],
    [0, 4294967295, true],
  ])('stored %i, received %i → %s', (stored, received, ok) => {
    expect(counterMovesForward(stored, received)).toBe(ok);
  });
});

describe('passkeyName', () => {
  const at = new Date('2026-12-01T09:00:00Z');
  it.each([
    [undefined, 'Passkey 2026-12-01'],
    ['   ', 'Passkey 2026-12-01'],
    ['  Mon   téléphone ', 'Mon téléphone'],
    ['x'.repeat(100), 'x'.repeat(64)],
  ])('%j → %j', (given, name) => {
    expect(passkeyName(given, at)).toBe(name);
  });
});

describe('knownTransports', () => {
  it('keeps only the transports WebAuthn defines', () => {
    expect(knownTransports(['internal', 'hybrid', 'carrier-pigeon'])).toEqual(['internal', 'hybrid']);
    expect(knownTransports(undefined)).toEqual([]);
  });
});
