import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { registerFamilyJobs } from '../../src/modules/family/index.ts';
import { createJobRegistry } from '../../src/modules/notifications/jobs.ts';
import { pushAsProfessional, type ApiPatient } from '../api/support.ts';
import { createTestRuntime, seedProfessional, type TestRuntime } from '../harness.ts';
import { activePerson, as, pdfHasText } from './support.ts';

/** Caregivers: invitations, limits, expiry, refusal, revocation by either side, scopes, attestation. */

const START = new Date('2026-04-01T09:00:00Z');
let rt: TestRuntime;
beforeAll(async () => {
  // Sessions outlive the 15-day waits of these tests.
  rt = await createTestRuntime({ clock: START, env: { CARNET_SESSION_TTL_HOURS: '720' } });
});
afterAll(async () => {
  await rt?.close();
});
const clock = () => rt.clock as unknown as { set(d: Date): void; advance(ms: number): void };

interface Invitation {
  id: string;
  status: string;
  scopes: string[];
  endsAt: string | null;
}

async function invite(
  person: ApiPatient,
  caregiver: ApiPatient,
  scopes: string[] = ['agenda', 'messages'],
  extra: Record<string, unknown> = {},
): Promise<LightMyRequestResponse> {
  return rt.app.inject({
    method: 'POST',
    url: '/api/caregivers/invitations',
    headers: as(person),
    payload: { matricule: caregiver.patient.ins.matricule, scopes, ...extra },
  });
}

async function helping(person: ApiPatient, caregiver: ApiPatient, scopes?: string[]): Promise<Invitation> {
  const sent = await invite(person, caregiver, scopes);
  expect(sent.statusCode, sent.body).toBe(201);
  const inv = sent.json<Invitation>();
  const ok = await rt.app.inject({
    method: 'POST',
    url: `/api/invitations/${inv.id}/accept`,
    headers: as(caregiver),
  });
  expect(ok.statusCode, ok.body).toBe(200);
  return ok.json<Invitation>();
}

const get = (who: ApiPatient, url: string, profile?: string) =>
  rt.app.inject({ method: 'GET', url, headers: as(who, profile) });

describe('caregiver invitations', () => {
  it('validates scopes, end date and the invitee', async () => {
    clock().set(START);
    const person = await activePerson(rt);
    const caregiver = await activePerson(rt);
    expect((await invite(person, caregiver, ['privacy'])).statusCode).toBe(400);
    expect((await invite(person, caregiver, ['documents', 'payments'])).statusCode).toBe(400);
    expect((await invite(person, caregiver, ['agenda'], { endsAt: '2020-01-01' })).statusCode).toBe(400);
    expect((await invite(person, caregiver, ['agenda'], { endsAt: '2035-01-01' })).statusCode).toBe(400);
    expect((await invite(person, person)).statusCode).toBe(400);
    await rt.ctx.rootDb
      .updateTable('patients')
      .set({ activated_at: null })
      .where('id', '=', caregiver.patient.id)
      .execute();
    const inactive = await invite(person, caregiver);
    expect(inactive.statusCode).toBe(409);
    expect(inactive.body).toMatch(/active/);
  });

  it('enforces the scopes through HTTP: agenda only → no documents, no notifications, never privacy', async () => {
    clock().set(START);
    const person = await activePerson(rt, 'Marie');
    const caregiver = await activePerson(rt, 'Paul');
    const pro = await seedProfessional(rt.ctx);
    const doc = await pushAsProfessional(rt, pro, person.patient, { title: 'SECRET-MARIE' });
    const inv = await helping(person, caregiver, ['agenda']);
    expect(inv.scopes).toEqual(['agenda']);
    const profiles = await get(caregiver, '/api/profiles');
    expect(
      profiles.json<{ items: Array<{ patientId: string; kind: string; scopes: string[] }> }>().items[1],
    ).toMatchObject({
      patientId: person.patient.id,
      kind: 'assisted_person',
      scopes: ['agenda'],
    });
    for (const url of ['/api/documents', `/api/documents/${doc.id}`, '/api/notifications', '/api/privacy']) {
      const res = await get(caregiver, url, person.patient.id);
      expect(res.statusCode, url).toBe(404);
      expect(res.body).not.toContain('SECRET-MARIE');
    }

    const other = await activePerson(rt, 'Léa');
    const docsHelper = await activePerson(rt, 'Hugo');
    const otherDoc = await pushAsProfessional(rt, pro, other.patient, { title: 'Compte rendu' });
    await helping(other, docsHelper, ['documents', 'history']);
    const docs = await get(docsHelper, '/api/documents', other.patient.id);
    expect(docs.statusCode).toBe(200);
    expect(docs.json<{ items: Array<{ id: string }> }>().items.map((d) => d.id)).toEqual([otherDoc.id]);
    expect((await get(docsHelper, '/api/audit-events', other.patient.id)).statusCode).toBe(200);
    // Privacy is never a caregiver's: settings, rules, masking.
    expect((await get(docsHelper, '/api/privacy', other.patient.id)).statusCode).toBe(404);
    const mask = await rt.app.inject({
      method: 'PUT',
      url: `/api/documents/${otherDoc.id}/masked`,
      headers: as(docsHelper, other.patient.id),
      payload: { masked: true },
    });
    expect(mask.statusCode).toBe(404);
    const settings = await rt.app.inject({
      method: 'PUT',
      url: '/api/privacy/settings',
      headers: as(docsHelper, other.patient.id),
      payload: { samuAccess: false },
    });
    expect(settings.statusCode).toBe(404);
    // Nor may a caregiver appoint caregivers.
    const third = await activePerson(rt);
    const appoint = await rt.app.inject({
      method: 'POST',
      url: '/api/caregivers/invitations',
      headers: as(docsHelper, other.patient.id),
      payload: { matricule: third.patient.ins.matricule, scopes: ['agenda'] },
    });
    expect(appoint.statusCode).toBe(404);
  });

  it('at most 3 caregivers per person (pending ones count), at most 5 people per caregiver', async () => {
    clock().set(START);
    const person = await activePerson(rt);
    const helpers = [
      await activePerson(rt),
      await activePerson(rt),
      await activePerson(rt),
      await activePerson(rt),
    ];
    await helping(person, helpers[0]!);
    expect((await invite(person, helpers[1]!)).statusCode).toBe(201);
    // Re-sent unchanged: the same pending invitation; changed: refused.
    expect((await invite(person, helpers[1]!)).statusCode).toBe(200);
    expect((await invite(person, helpers[1]!, ['documents'])).statusCode).toBe(409);
    expect((await invite(person, helpers[2]!)).statusCode).toBe(201);
    const fourth = await invite(person, helpers[3]!);
    expect(fourth.statusCode).toBe(409);
    expect(fourth.body).toMatch(/at most 3 caregivers/);

    const busy = await activePerson(rt);
    for (let i = 0; i < 5; i++) await helping(await activePerson(rt), busy);
    const sixth = await invite(await activePerson(rt), busy);
    expect(sixth.statusCode).toBe(409);
    expect(sixth.body).toMatch(/already helps 5 people/);
  });

  it('expires after 15 days, and a refused invitation cannot be accepted', async () => {
    clock().set(START);
    const person = await activePerson(rt);
    const caregiver = await activePerson(rt);
    const sent = (await invite(person, caregiver)).json<Invitation>();
    clock().advance(15 * 86_400_000 + 1000);
    const late = await rt.app.inject({
      method: 'POST',
      url: `/api/invitations/${sent.id}/accept`,
      headers: as(caregiver),
    });
    expect(late.statusCode).toBe(409);
    expect(late.body).toMatch(/expired/);
    const list = await get(person, '/api/invitations');
    expect(list.json<{ sent: Invitation[] }>().sent.find((i) => i.id === sent.id)?.status).toBe('expired');
    // The job marks the ones nobody touched.
    const other = (await invite(person, await activePerson(rt))).json<Invitation>();
    clock().advance(16 * 86_400_000);
    const jobs = createJobRegistry();
    const crons = registerFamilyJobs(jobs);
    expect(crons.map((c) => c.name).sort()).toEqual(['family.invitations-expire', 'family.majority']);
    const handler = jobs.handlers.get('family.invitations-expire');
    await handler?.(rt.ctx, { id: 'test', name: 'family.invitations-expire' } as never);
    const row = await rt.ctx.rootDb
      .selectFrom('family_invitations')
      .select('status')
      .where('id', '=', other.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('expired');

    clock().set(START);
    const again = (await invite(person, caregiver)).json<Invitation>();
    const refused = await rt.app.inject({
      method: 'POST',
      url: `/api/invitations/${again.id}/refuse`,
      headers: as(caregiver),
    });
    expect(refused.json<Invitation>().status).toBe('refused');
    const accept = await rt.app.inject({
      method: 'POST',
      url: `/api/invitations/${again.id}/accept`,
      headers: as(caregiver),
    });
    expect(accept.statusCode).toBe(409);
  });

  it('revocation by either side takes effect on the very next request', async () => {
    clock().set(START);
    const person = await activePerson(rt);
    const byPerson = await activePerson(rt);
    const byHelper = await activePerson(rt);
    const a = await helping(person, byPerson, ['documents']);
    const b = await helping(person, byHelper, ['documents']);
    expect((await get(byPerson, '/api/documents', person.patient.id)).statusCode).toBe(200);
    expect((await get(byHelper, '/api/documents', person.patient.id)).statusCode).toBe(200);

    // A stranger cannot revoke it.
    const stranger = await activePerson(rt);
    const nope = await rt.app.inject({
      method: 'DELETE',
      url: `/api/caregivers/${a.id}`,
      headers: as(stranger),
    });
    expect(nope.statusCode).toBe(404);

    const r1 = await rt.app.inject({ method: 'DELETE', url: `/api/caregivers/${a.id}`, headers: as(person) });
    expect(r1.statusCode).toBe(204);
    expect((await get(byPerson, '/api/documents', person.patient.id)).statusCode).toBe(404);
    const r2 = await rt.app.inject({
      method: 'DELETE',
      url: `/api/caregivers/${b.id}`,
      headers: as(byHelper),
    });
    expect(r2.statusCode).toBe(204);
    expect((await get(byHelper, '/api/documents', person.patient.id)).statusCode).toBe(404);
    // Idempotent.
    expect(
      (await rt.app.inject({ method: 'DELETE', url: `/api/caregivers/${b.id}`, headers: as(byHelper) }))
        .statusCode,
    ).toBe(204);
    const sent = (await get(person, '/api/invitations')).json<{
      sent: Array<Invitation & { revokedBy: string }>;
    }>().sent;
    expect(sent.find((i) => i.id === a.id)).toMatchObject({ status: 'revoked', revokedBy: 'person' });
    expect(sent.find((i) => i.id === b.id)).toMatchObject({ status: 'revoked', revokedBy: 'helper' });
  });

  it('gives either side a PDF attestation naming both people and the scopes', async () => {
    clock().set(START);
    const person = await activePerson(rt, 'Suzanne');
    const caregiver = await activePerson(rt, 'Bernard');
    const inv = await helping(person, caregiver, ['agenda', 'vaccinations']);
    for (const who of [person, caregiver]) {
      const res = await get(who, `/api/caregivers/${inv.id}/attestation`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toBe('application/pdf');
      const pdf = res.rawPayload;
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      for (const text of ['Bernard', 'Suzanne', 'Agenda', 'Vaccinations', 'AID-'])
        expect(pdfHasText(pdf, text), text).toBe(true);
    }
    const en = await get(person, `/api/caregivers/${inv.id}/attestation?lang=en`);
    expect(pdfHasText(en.rawPayload, 'Scopes')).toBe(true);
    const stranger = await activePerson(rt);
    expect((await get(stranger, `/api/caregivers/${inv.id}/attestation`)).statusCode).toBe(404);
  });
});
