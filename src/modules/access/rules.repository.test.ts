import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, seedPatient, seedProfessional, type TestRuntime } from '../../../test/harness.ts';
import { loadLiveRules, loadPolicyRows, loadSettings, saveSettings, toRule } from './rules.repository.ts';

let rt: TestRuntime;
beforeAll(async () => {
  rt = await createTestRuntime();
});
afterAll(async () => {
  await rt.close();
});

describe('loadPolicyRows (one round trip)', () => {
  it('returns the same live rules and settings as the plain queries', async () => {
    const patient = await seedPatient(rt.ctx);
    const pro = await seedProfessional(rt.ctx);
    const now = new Date();
    const base = {
      patient_id: patient.id,
      person_id: null,
      document_id: null,
      role: null,
      channel: null,
      reason: null,
      created_at: now,
      created_by: 'test',
      revoked_at: null,
    };
    await rt.ctx.rootDb
      .insertInto('access_rules')
      .values([
        {
          ...base,
          id: '01a20000-0000-7000-8000-000000000001',
          kind: 'care_team',
          professional_id: pro.id,
          scopes: [],
          starts_at: now,
          ends_at: null,
          details: '{}',
        },
        {
          ...base,
          id: '01a20000-0000-7000-8000-000000000002',
          kind: 'consent',
          professional_id: pro.id,
          channel: 'phone',
          scopes: ['x'],
          starts_at: now,
          ends_at: new Date(now.getTime() + 60_000),
          details: '{"a":1}',
        },
        {
          ...base,
          id: '01a20000-0000-7000-8000-000000000003',
          kind: 'block',
          professional_id: pro.id,
          scopes: [],
          starts_at: now,
          ends_at: new Date(now.getTime() - 1),
          details: '{}',
        },
        {
          ...base,
          id: '01a20000-0000-7000-8000-000000000004',
          kind: 'block',
          professional_id: pro.id,
          scopes: [],
          starts_at: now,
          ends_at: null,
          details: '{}',
          revoked_at: now,
        },
      ])
      .execute();
    await saveSettings(
      rt.ctx.rootDb,
      patient.id,
      { maskByDefault: true, samuAccess: false, breakGlassAccess: true, emergencyIncludesMasked: true },
      now,
    );
    const one = await loadPolicyRows(rt.ctx.rootDb, patient.id, now);
    const plain = await loadLiveRules(rt.ctx.rootDb, patient.id, now);
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect(one.rules.map(toRule).sort(byId)).toEqual(plain.map(toRule).sort(byId));
    expect(one.rules.map((r) => r.kind).sort()).toEqual(['care_team', 'consent']);
    expect(one.settings).toEqual(await loadSettings(rt.ctx.rootDb, patient.id));
    expect(one.settings).toEqual({
      maskByDefault: true,
      samuAccess: false,
      breakGlassAccess: true,
      emergencyIncludesMasked: true,
    });
  });

  it('gives the defaults for a record with nothing set', async () => {
    const patient = await seedPatient(rt.ctx);
    const one = await loadPolicyRows(rt.ctx.rootDb, patient.id, new Date());
    expect(one.rules).toEqual([]);
    expect(one.settings).toEqual({
      maskByDefault: false,
      samuAccess: true,
      breakGlassAccess: true,
      emergencyIncludesMasked: false,
    });
  });
});

describe('unique roles (addAccessRule)', () => {
  it('pass to the professional named now; naming the same one twice is a conflict for non-unique kinds', async () => {
    const { addAccessRule } = await import('./privacy.service.ts');
    const patient = await seedPatient(rt.ctx);
    const owner = { kind: 'patient' as const, patientId: patient.id, display: 'Camille', sessionId: 's' };
    const first = await seedProfessional(rt.ctx);
    const second = await seedProfessional(rt.ctx);
    await addAccessRule(rt.ctx, owner, patient.id, { kind: 'role', role: 'gp', rpps: first.rpps });
    await addAccessRule(rt.ctx, owner, patient.id, { kind: 'role', role: 'gp', rpps: second.rpps });
    // Naming the current GP again renews the role instead of failing.
    await addAccessRule(rt.ctx, owner, patient.id, { kind: 'role', role: 'gp', rpps: second.rpps });
    const gps = (await loadLiveRules(rt.ctx.rootDb, patient.id, new Date())).filter((r) => r.role === 'gp');
    expect(gps.map((r) => r.professional_id)).toEqual([second.id]);
    await addAccessRule(rt.ctx, owner, patient.id, { kind: 'care_team', rpps: first.rpps });
    await expect(
      addAccessRule(rt.ctx, owner, patient.id, { kind: 'care_team', rpps: first.rpps }),
    ).rejects.toMatchObject({
      code: 'conflict',
    });
  });
});
