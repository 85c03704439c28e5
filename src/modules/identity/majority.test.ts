import { describe, expect, it } from 'vitest';
import { majorityAt } from './majority.ts';

describe('majorityAt', () => {
  it('is midnight in Paris on the 18th birthday, summer and winter', () => {
    expect(majorityAt('2008-05-14').toISOString()).toBe('2026-05-13T22:00:00.000Z');
    expect(majorityAt('2008-12-01').toISOString()).toBe('2026-11-30T23:00:00.000Z');
  });
  it('moves 29 February to 1 March in a common year', () => {
    expect(majorityAt('2008-02-29').toISOString()).toBe('2026-02-28T23:00:00.000Z');
  });
  it('refuses a malformed date', () => {
    expect(() => majorityAt('14/05/2008')).toThrow(/YYYY-MM-DD/);
  });
});
