/** Age of majority in France (DOMAIN §2): representatives lose access, the person becomes autonomous. */
export const MAJORITY_AGE = 18;

/**
 * The instant a person born on `birthDate` (YYYY-MM-DD) comes of age: midnight, Paris time, on
 * their 18th birthday (29 February births: 1 March in common years).
 * @example majorityAt('2008-05-14') // 2026-05-13T22:00:00.000Z
 */
export function majorityAt(birthDate: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate);
  if (!m) throw new Error(`birth date must be YYYY-MM-DD: ${birthDate}`);
  const year = Number(m[1]) + MAJORITY_AGE;
  let month = Number(m[2]);
  let day = Number(m[3]);
  const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (month === 2 && day === 29 && !leap(year)) {
    month = 3;
    day = 1;
  }
  // Paris is UTC+1 in winter, UTC+2 in summer: find the offset at that local midnight.
  const utcGuess = Date.UTC(year, month - 1, day, 0, 0, 0);
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Paris',
    hour: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(utcGuess));
  const parisHourAtUtcMidnight = Number(parts.find((p) => p.type === 'hour')?.value ?? '1');
  return new Date(utcGuess - parisHourAtUtcMidnight * 3600_000);
}
