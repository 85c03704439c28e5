import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, seedPatient, type TestRuntime } from '../../../test/harness.ts';
import { startSession } from './identity.service.ts';
import { checkEmailCode, EMAIL_CODE_MAX_ATTEMPTS, maskEmail, startEmailEnrolment } from './second-factor.ts';

let rt: TestRuntime;
beforeAll(async () => {
  rt = await createTestRuntime({ clock: new Date('2026-03-02T08:00:00Z') });
});
afterAll(async () => {
  await rt?.close();
});

describe('e-mail one-time codes', () => {
  it(`are dead after ${EMAIL_CODE_MAX_ATTEMPTS} wrong attempts; kept only as keyed hashes`, async () => {
    const p = await seedPatient(rt.ctx);
    const s = await startSession(rt.ctx, rt.ctx.rootDb, p.id, { state: 'enrolment', ttlMinutes: 30 });
    const mail = await startEmailEnrolment(rt.ctx, {
      patientId: p.id,
      sessionId: s.id,
      email: 'x@mail.test',
    });
    const code = /code (\d{6})/.exec(mail.subject)?.[1] ?? '';
    const row = await rt.ctx.rootDb
      .selectFrom('one_time_codes')
      .selectAll()
      .where('patient_id', '=', p.id)
      .executeTakeFirstOrThrow();
    expect(row.code_hash.length).toBe(32);
    expect(row.code_hash.toString('latin1')).not.toContain(code);
    const bad = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < EMAIL_CODE_MAX_ATTEMPTS; i++)
      expect(await checkEmailCode(rt.ctx, rt.ctx.rootDb, p.id, s.id, bad)).toBeUndefined();
    expect(await checkEmailCode(rt.ctx, rt.ctx.rootDb, p.id, s.id, code)).toBeUndefined();
  });

  it('the right code works once', async () => {
    const p = await seedPatient(rt.ctx);
    const s = await startSession(rt.ctx, rt.ctx.rootDb, p.id, { state: 'enrolment', ttlMinutes: 30 });
    const mail = await startEmailEnrolment(rt.ctx, {
      patientId: p.id,
      sessionId: s.id,
      email: 'y@mail.test',
    });
    const code = /code (\d{6})/.exec(mail.subject)?.[1] ?? '';
    expect(await checkEmailCode(rt.ctx, rt.ctx.rootDb, p.id, s.id, code)).toBeDefined();
    expect(await checkEmailCode(rt.ctx, rt.ctx.rootDb, p.id, s.id, code)).toBeUndefined();
  });

  it('masks addresses', () => {
    expect(maskEmail('camille@example.org')).toBe('c•••e@example.org');
    expect(maskEmail('ab@x.fr')).toBe('a•@x.fr');
  });
});
