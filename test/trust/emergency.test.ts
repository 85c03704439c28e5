import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Patient } from '../../src/modules/identity/index.ts';
import { createTestRuntime, type TestRuntime } from '../harness.ts';
import { signedInPatient, type ApiPatient } from '../api/support.ts';
import {
  audited,
  clockOf,
  HIDDEN,
  HOUR,
  professional,
  publish,
  putSettings,
  renewTokens,
  SEEN,
  setMasked,
  START,
  TYPES,
  view,
  type Pro,
} from './support.ts';

/**
 * Emergency access over FHIR (DOMAIN §4.6): `POST /fhir/R4/Patient/$emergency-access`, governed by
 * the person's three switches, with a mandatory reason, lasting CARNET_EMERGENCY_ACCESS_HOURS (24 h
 * by default) and no longer.
 */

let rt: TestRuntime;
let a: ApiPatient;
let docs: { consult: string; masked: string };

beforeAll(async () => {
  rt = await createTestRuntime({ clock: START, env: { CARNET_SESSION_TTL_HOURS: '720' } });
  a = await signedInPatient(rt);
  const author = await professional(rt, '10');
  docs = {
    consult: await publish(rt, author, a.patient, { type: TYPES.consult }),
    masked: await publish(rt, author, a.patient, { type: TYPES.consult }),
  };
  await setMasked(rt, a.cookie, docs.masked, true);
});
afterAll(async () => {
  await rt?.close();
});

function emergency(
  pro: Pro,
  patient: Patient,
  mode: 'samu' | 'break-glass',
  reason?: string,
): Promise<LightMyRequestResponse> {
  return rt.app.inject({
    method: 'POST',
    url: '/fhir/R4/Patient/$emergency-access',
    headers: { authorization: `Bearer ${pro.token}`, 'content-type': 'application/fhir+json' },
    payload: JSON.stringify({
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'patient',
          valueIdentifier: { system: `urn:oid:${patient.ins.oid}`, value: patient.ins.matricule },
        },
        { name: 'mode', valueCode: mode },
        ...(reason === undefined ? [] : [{ name: 'reason', valueString: reason }]),
      ],
    }),
  });
}

function outcome(res: LightMyRequestResponse, status: number, code: string): string {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
  const body = res.json<{ resourceType: string; issue: Array<{ code: string; diagnostics: string }> }>();
  expect(body.resourceType).toBe('OperationOutcome');
  expect(body.issue[0]?.code).toBe(code);
  return body.issue[0]?.diagnostics ?? '';
}

const REASON = 'Patient inconscient aux urgences, allergies inconnues';

describe('break-glass', () => {
  it('without a reason (or a too short one) is a 400 OperationOutcome and opens nothing', async () => {
    const er = await professional(rt, '10');
    const missing = await emergency(er, a.patient, 'break-glass');
    outcome(missing, 400, 'invalid');
    expect(missing.json<{ issue: Array<{ expression?: string[] }> }>().issue[0]?.expression).toEqual([
      "Parameters.parameter.where(name='reason')",
    ]);
    expect(outcome(await emergency(er, a.patient, 'break-glass', '  urgent '), 400, 'invalid')).toMatch(
      /reason/,
    );
    expect(await view(rt, er, a.patient, docs)).toEqual({ consult: HIDDEN, masked: HIDDEN });
    const opened = await rt.ctx.rootDb
      .selectFrom('access_rules')
      .select('id')
      .where('patient_id', '=', a.patient.id)
      .where('kind', '=', 'emergency')
      .execute();
    expect(opened).toEqual([]);
  });

  it('with a reason opens 24 h of access (not to masked documents), audited with its basis', async () => {
    const er = await professional(rt, '10');
    const opened = await audited(rt, () => emergency(er, a.patient, 'break-glass', REASON));
    expect(opened.value.statusCode, opened.value.body).toBe(200);
    const params = opened.value.json<{
      parameter: Array<{ name: string; valueId?: string; valueDateTime?: string }>;
    }>();
    const id = params.parameter.find((p) => p.name === 'id')?.valueId;
    const startedAt = clockOf(rt).now();
    expect(params.parameter.find((p) => p.name === 'end')?.valueDateTime).toBe(
      new Date(startedAt.getTime() + 24 * HOUR).toISOString(),
    );
    expect(opened.rows).toEqual([
      expect.objectContaining({
        patient_id: a.patient.id,
        actor_id: er.rpps,
        action: 'create',
        entity_type: 'EmergencyAccess',
        entity_id: id,
        outcome: 'success',
        basis: 'emergency',
        details: expect.objectContaining({ mode: 'break_glass', reason: REASON }),
      }),
    ]);

    const seen = await audited(rt, () => view(rt, er, a.patient, docs));
    expect(seen.value).toEqual({ consult: SEEN, masked: HIDDEN });
    const read = seen.rows.find((r) => r.entity_id === docs.consult && r.entity_type === 'DocumentReference');
    expect(read).toMatchObject({
      outcome: 'success',
      basis: 'emergency',
      details: expect.objectContaining({ ruleId: id }),
    });

    clockOf(rt).set(new Date(startedAt.getTime() + 24 * HOUR - 60_000));
    await renewTokens(rt, er);
    expect((await view(rt, er, a.patient, docs)).consult).toEqual(SEEN);
    clockOf(rt).set(new Date(startedAt.getTime() + 24 * HOUR + 1));
    expect((await view(rt, er, a.patient, docs)).consult).toEqual(HIDDEN);
  });

  it('includes masked documents only when the person allowed it', async () => {
    await putSettings(rt, a.cookie, { emergencyIncludesMasked: true });
    const er = await professional(rt, '10');
    expect((await emergency(er, a.patient, 'break-glass', REASON)).statusCode).toBe(200);
    expect(await view(rt, er, a.patient, docs)).toEqual({ consult: SEEN, masked: SEEN });
    await putSettings(rt, a.cookie, { emergencyIncludesMasked: false });
    expect(await view(rt, er, a.patient, docs)).toEqual({ consult: SEEN, masked: HIDDEN });
  });

  it('is refused with 403 when the person turned the switch off, which also ends open accesses', async () => {
    const open = await professional(rt, '10');
    expect((await emergency(open, a.patient, 'break-glass', REASON)).statusCode).toBe(200);
    await putSettings(rt, a.cookie, { breakGlassAccess: false });
    expect((await view(rt, open, a.patient, docs)).consult).toEqual(HIDDEN);

    const er = await professional(rt, '10');
    const refused = await audited(rt, () => emergency(er, a.patient, 'break-glass', REASON));
    expect(outcome(refused.value, 403, 'forbidden')).toMatch(/opposed/);
    expect(refused.rows).toEqual([
      expect.objectContaining({
        actor_id: er.rpps,
        entity_type: 'EmergencyAccess',
        outcome: 'denied',
        basis: null,
      }),
    ]);
    expect(await view(rt, er, a.patient, docs)).toEqual({ consult: HIDDEN, masked: HIDDEN });
    await putSettings(rt, a.cookie, { breakGlassAccess: true });
  });

  it('is not open to a professional the person blocked (404, as for anything hidden)', async () => {
    const blocked = await professional(rt, '10');
    const res = await rt.app.inject({
      method: 'POST',
      url: '/api/privacy/rules',
      headers: { cookie: a.cookie },
      payload: { kind: 'block', rpps: blocked.rpps },
    });
    expect(res.statusCode).toBe(201);
    outcome(await emergency(blocked, a.patient, 'break-glass', REASON), 404, 'not-found');
    expect(await view(rt, blocked, a.patient, docs)).toEqual({ consult: HIDDEN, masked: HIDDEN });
  });
});

describe('emergency regulation (SAMU)', () => {
  it('is refused (403) to a professional who is not a regulator', async () => {
    const er = await professional(rt, '10');
    const refused = await audited(rt, () => emergency(er, a.patient, 'samu', REASON));
    expect(outcome(refused.value, 403, 'forbidden')).toMatch(/regulation/);
    expect(refused.rows.map((r) => [r.outcome, r.entity_type])).toEqual([['denied', 'EmergencyAccess']]);
    expect(await view(rt, er, a.patient, docs)).toEqual({ consult: HIDDEN, masked: HIDDEN });
  });

  it('is open to a regulator of a SAMU organisation, unless the person opposed it', async () => {
    const regulator = await professional(rt, '10', { orgKind: 'samu' });
    const opened = await audited(rt, () => emergency(regulator, a.patient, 'samu', REASON));
    expect(opened.value.statusCode, opened.value.body).toBe(200);
    expect(opened.rows[0]).toMatchObject({
      basis: 'emergency',
      details: expect.objectContaining({ mode: 'samu' }),
    });
    expect(await view(rt, regulator, a.patient, docs)).toEqual({ consult: SEEN, masked: HIDDEN });

    await putSettings(rt, a.cookie, { samuAccess: false });
    expect((await view(rt, regulator, a.patient, docs)).consult).toEqual(HIDDEN);
    const other = await professional(rt, '10', { orgKind: 'samu' });
    expect(outcome(await emergency(other, a.patient, 'samu', REASON), 403, 'forbidden')).toMatch(/opposed/);
    await putSettings(rt, a.cookie, { samuAccess: true });
    expect((await view(rt, regulator, a.patient, docs)).consult).toEqual(SEEN);
  });
});
