import { pdfHasText as pdfHas } from '../pdf.ts';
import { openSecret } from '../../src/platform/crypto.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, sessionCookieFor, type TestRuntime } from '../harness.ts';
import { PASSWORD, signedInPatient } from '../api/support.ts';
import { clockOf, DAY, noticesOf, pendingPerson, START, statusOf, WEEK } from './support.ts';

/** The life-event routes over HTTP: opposition and its proof (anonymous), closure and re-opening. */

let rt: TestRuntime;
beforeAll(async () => {
  rt = await createTestRuntime({ clock: START });
});
afterAll(async () => {
  await rt?.close();
});

const oppose = (payload: Record<string, unknown>) =>
  rt.app.inject({ method: 'POST', url: '/api/opposition', payload });

describe('POST /api/opposition', () => {
  it('records the opposition, answers the same reference when sent again, and gives the proof only with the triple', async () => {
    const { patient, code } = await pendingPerson(rt, new Date(START.getTime() + 6 * WEEK));
    const triple = { code, matricule: patient.ins.matricule, birthDate: patient.birthDate };
    const res = await oppose(triple);
    expect(res.statusCode, res.body).toBe(200);
    const { reference } = res.json<{ reference: string; opposedAt: string }>();
    expect(reference).toMatch(/^OPP-/);
    expect((await statusOf(rt, patient.id))?.account_status).toBe('opposed');
    expect(await noticesOf(rt, patient.id)).toEqual(['opposition']);

    const again = await oppose({ ...triple, code: code.toLowerCase().replaceAll('-', ' ') });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json<{ reference: string }>().reference).toBe(reference);

    const proof = await rt.app.inject({
      method: 'POST',
      url: '/api/opposition/proof',
      payload: { reference, matricule: patient.ins.matricule, birthDate: patient.birthDate },
    });
    expect(proof.statusCode).toBe(200);
    expect(proof.headers['content-type']).toBe('application/pdf');
    expect(proof.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdfHas(proof.rawPayload, reference)).toBe(true);

    const stranger = await rt.app.inject({
      method: 'POST',
      url: '/api/opposition/proof',
      payload: { reference, matricule: patient.ins.matricule, birthDate: '1990-01-01' },
    });
    expect(stranger.statusCode).toBe(404);
  });

  it('gives one answer to every mismatch: unknown matricule, wrong birth date, wrong code, a used code', async () => {
    const { patient, code } = await pendingPerson(rt, new Date(START.getTime() + 6 * WEEK));
    const good = { code, matricule: patient.ins.matricule, birthDate: patient.birthDate };
    const answers = [
      await oppose({ ...good, matricule: '299999999999999' }),
      await oppose({ ...good, birthDate: '1999-12-31' }),
      await oppose({ ...good, code: 'AAAA-BBBB-CCCC-DDDD' }),
    ];
    for (const a of answers) expect(a.statusCode).toBe(400);
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect((await statusOf(rt, patient.id))?.account_status).toBe('pending');
    const refused = await rt.ctx.rootDb
      .selectFrom('audit_events')
      .select(['outcome', 'patient_id'])
      .where('action', '=', 'oppose')
      .where('outcome', '=', 'denied')
      .execute();
    expect(refused.length).toBeGreaterThanOrEqual(3);
    expect(refused.every((r) => r.patient_id === null)).toBe(true);
  });

  it('after the window: refused with the date it closed, to the holder of the right code only', async () => {
    const { patient, code } = await pendingPerson(rt, new Date(clockOf(rt).now().getTime() - DAY));
    const res = await oppose({ code, matricule: patient.ins.matricule, birthDate: patient.birthDate });
    expect(res.statusCode).toBe(409);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/closed on .*close it instead/);
    expect((await statusOf(rt, patient.id))?.account_status).toBe('pending');
  });
});

describe('POST /api/account/closure and /api/account/reopening', () => {
  it('closes the signed-in person’s space (sessions revoked); the code of the closure notice re-opens it', async () => {
    const a = await signedInPatient(rt);
    const closed = await rt.app.inject({
      method: 'POST',
      url: '/api/account/closure',
      headers: { cookie: a.cookie },
      payload: {},
    });
    expect(closed.statusCode, closed.body).toBe(200);
    expect(closed.json()).toMatchObject({ status: 'closed', patientId: a.patient.id });
    const me = await rt.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: a.cookie } });
    expect(me.statusCode).toBe(401);

    const notice = await rt.ctx.rootDb
      .selectFrom('account_notices')
      .select(['id', 'sealed_payload'])
      .where('patient_id', '=', a.patient.id)
      .where('kind', '=', 'closure')
      .executeTakeFirstOrThrow();
    const { code } = JSON.parse(
      openSecret(
        rt.ctx.masterKey,
        'account-notice',
        notice.sealed_payload as Buffer,
        `${a.patient.id}/${notice.id}`,
      ),
    ) as { code: string };
    const triple = { code, matricule: a.patient.ins.matricule, birthDate: a.patient.birthDate };
    const wrong = await rt.app.inject({
      method: 'POST',
      url: '/api/account/reopening',
      payload: { ...triple, birthDate: '1901-01-01' },
    });
    expect(wrong.statusCode).toBe(400);
    const reopened = await rt.app.inject({ method: 'POST', url: '/api/account/reopening', payload: triple });
    expect(reopened.statusCode, reopened.body).toBe(200);
    expect(reopened.json()).toMatchObject({ status: 'open', eraseAfter: null, closedAt: null });
    const used = await rt.app.inject({ method: 'POST', url: '/api/account/reopening', payload: triple });
    expect(used.statusCode).toBe(400);
    const cookie = await sessionCookieFor(rt.app, a.login, PASSWORD);
    const after = await rt.app.inject({ method: 'GET', url: '/api/documents', headers: { cookie } });
    expect(after.statusCode).toBe(200);
    const again = await rt.app.inject({ method: 'POST', url: '/api/account/reopening', headers: { cookie } });
    expect(again.statusCode, again.body).toBe(409);
  });

  it('another person cannot close a space they do not represent (404, audited)', async () => {
    const [a, b] = [await signedInPatient(rt), await signedInPatient(rt)];
    const res = await rt.app.inject({
      method: 'POST',
      url: '/api/account/closure',
      headers: { cookie: b.cookie, 'x-carnet-profile': a.patient.id },
      payload: {},
    });
    expect(res.statusCode).toBe(404);
    expect((await statusOf(rt, a.patient.id))?.account_status).toBe('open');
    expect((await statusOf(rt, b.patient.id))?.account_status).toBe('open');
  });
});
