import { describe, expect, it } from 'vitest';
import { isUuid, uuidv7 } from './ids.ts';

describe('uuidv7', () => {
  it('makes valid, time-ordered, unique ids', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7());
    expect(ids.every(isUuid)).toBe(true);
    expect(ids.every((id) => id[14] === '7')).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('encodes the timestamp', () => {
    const at = Date.UTC(2026, 10, 22, 12, 0, 0);
    const id = uuidv7(at + 10_000_000); // in the future of any earlier call
    expect(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBeGreaterThanOrEqual(at + 10_000_000);
  });

  it.each(['', 'not-a-uuid', '../../etc/passwd', '01A20198-3054-75A9-A574-7CE0B8192280', "x' or 1=1 --"])(
    'rejects %j',
    (v) => {
      expect(isUuid(v)).toBe(false);
    },
  );
});
