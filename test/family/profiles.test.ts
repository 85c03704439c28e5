import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processMajorities } from '../../src/modules/family/index.ts';
import { majorityAt } from '../../src/modules/identity/index.ts';
import { pushAsProfessional, upload } from '../api/support.ts';
import { makePdf } from '../harness.ts';
import { createTestRuntime, seedProfessional, type TestRuntime } from '../harness.ts';
import { activePerson, as, childOf } from './support.ts';

/** Profiles, switching between them, the second legal representative, the 18th birthday. */

const START = new Date('2026-06-01T10:00:00Z');
let rt: TestRuntime;
beforeAll(async () => {
  rt = await createTestRuntime({ clock: START });
});
afterAll(async () => {
  await rt?.close();
});

const setClock = (d: Date) => (rt.clock as unknown as { set(d: Date): void }).set(d);

interface Profile {
  patientId: string;
  self: boolean;
  kind: string;
  role: string;
  endsAt: string | null;
  display: string;
}

describe('profiles and switching', () => {
  it('lists my own profile and my child, then acts in the child’s profile with a labelled trail', async () => {
    setClock(START);
    const parent = await activePerson(rt, 'Camille');
    const child = await childOf(rt, parent.patient, '2020-02-03');
    const pro = await seedProfessional(rt.ctx);
    const doc = await pushAsProfessional(rt, pro, child, { title: 'Vaccins de Léo' });
    const own = await pushAsProfessional(rt, pro, parent.patient, { title: 'Bilan de Camille' });

    const res = await rt.app.inject({ method: 'GET', url: '/api/profiles', headers: as(parent) });
    expect(res.statusCode).toBe(200);
    const items = res.json<{ items: Profile[] }>().items;
    expect(items.map((p) => [p.patientId, p.self, p.kind, p.role])).toEqual([
      [parent.patient.id, true, 'self', 'self'],
      [child.id, false, 'child', 'legal_representative'],
    ]);
    expect(items[1]?.endsAt).toBe(majorityAt('2020-02-03').toISOString());

    const mine = await rt.app.inject({ method: 'GET', url: '/api/documents', headers: as(parent) });
    expect(mine.json<{ items: Array<{ id: string }> }>().items.map((d) => d.id)).toEqual([own.id]);
    const theirs = await rt.app.inject({
      method: 'GET',
      url: '/api/documents',
      headers: as(parent, child.id),
    });
    expect(theirs.statusCode).toBe(200);
    expect(theirs.json<{ items: Array<{ id: string }> }>().items.map((d) => d.id)).toEqual([doc.id]);
    const read = await rt.app.inject({
      method: 'GET',
      url: `/api/documents/${doc.id}`,
      headers: as(parent, child.id),
    });
    expect(read.statusCode).toBe(200);

    // The child's history shows the parent, labelled as a representative.
    const history = await rt.app.inject({
      method: 'GET',
      url: '/api/audit-events?limit=50',
      headers: as(parent, child.id),
    });
    expect(history.statusCode).toBe(200);
    const events = history.json<{
      items: Array<{
        actor: { kind: string; id: string | null; display: string };
        action: string;
        entity: { id: string | null };
        basis: string | null;
      }>;
    }>().items;
    const readEvent = events.find((e) => e.action === 'read' && e.entity.id === doc.id);
    expect(readEvent?.actor).toMatchObject({
      kind: 'representative',
      id: parent.patient.id,
      display: 'Camille Test',
    });
    expect(readEvent?.basis).toBe('representative');

    // The parent adds a document and keeps the read state in the child's name.
    const key = `family-${child.id.slice(0, 8)}`;
    const pdf = makePdf('Carnet de santé');
    const sent = () =>
      upload(rt.app, parent.cookie, {
        content: pdf,
        fields: { title: 'Carnet de santé' },
        headers: { 'x-carnet-profile': child.id, 'idempotency-key': key },
      });
    const added = await sent();
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json<{ author: { display: string } }>().author.display).toBe('Camille Test');
    const replayed = await sent();
    expect(replayed.statusCode).toBe(200);
    const childDocs = await rt.app.inject({
      method: 'GET',
      url: '/api/documents',
      headers: as(parent, child.id),
    });
    expect(childDocs.json<{ items: unknown[] }>().items).toHaveLength(2);
    const readState = await rt.app.inject({
      method: 'PUT',
      url: `/api/documents/${doc.id}/read-state`,
      headers: as(parent, child.id),
      payload: { read: true },
    });
    expect(readState.statusCode).toBe(200);
  });

  it("a stranger's id as the profile answers 404, audited as denied, with nothing of theirs", async () => {
    const me = await activePerson(rt);
    const other = await activePerson(rt);
    const pro = await seedProfessional(rt.ctx);
    const secret = await pushAsProfessional(rt, pro, other.patient, { title: 'SECRET-OTHER' });
    for (const url of ['/api/documents', '/api/audit-events', '/api/notifications', '/api/privacy']) {
      const res = await rt.app.inject({ method: 'GET', url, headers: as(me, other.patient.id) });
      expect(res.statusCode, url).toBe(404);
      expect(res.body).not.toContain('SECRET-OTHER');
      expect(res.body).not.toContain(secret.id);
    }
    const denied = await rt.ctx.rootDb
      .selectFrom('audit_events')
      .select(['actor_kind', 'actor_id', 'outcome'])
      .where('patient_id', '=', other.patient.id)
      .where('outcome', '=', 'denied')
      .execute();
    expect(denied.length).toBeGreaterThanOrEqual(4);
    expect(denied.every((d) => d.actor_kind === 'representative' && d.actor_id === me.patient.id)).toBe(true);
    const bad = await rt.app.inject({ method: 'GET', url: '/api/documents', headers: as(me, 'not-an-id') });
    expect(bad.statusCode).toBe(400);
    // My own id as the profile is my own record.
    const self = await rt.app.inject({
      method: 'GET',
      url: '/api/documents',
      headers: as(me, me.patient.id),
    });
    expect(self.statusCode).toBe(200);
  });
});

describe('the second legal representative', () => {
  it('is invited with an active space only, accepts, and then acts for the child too', async () => {
    setClock(START);
    const first = await activePerson(rt, 'Camille');
    const child = await childOf(rt, first.patient, '2019-09-09');
    const second = await activePerson(rt, 'Dominique');
    const inactive = await activePerson(rt, 'Inactif');
    await rt.ctx.rootDb
      .updateTable('patients')
      .set({ activated_at: null })
      .where('id', '=', inactive.patient.id)
      .execute();
    const invite = (matricule: string, by = first) =>
      rt.app.inject({
        method: 'POST',
        url: `/api/profiles/${child.id}/invitations`,
        headers: as(by),
        payload: { role: 'legal_representative', matricule },
      });

    const refused = await invite(inactive.patient.ins.matricule);
    expect(refused.statusCode).toBe(409);
    expect(refused.json<{ error: { message: string } }>().error.message).toMatch(/activate/);
    const unknown = await invite('299999999999999');
    expect(unknown.statusCode).toBe(400);

    const sent = await invite(second.patient.ins.matricule);
    expect(sent.statusCode, sent.body).toBe(201);
    const invitation = sent.json<{ id: string; status: string; endsAt: string; expiresAt: string }>();
    expect(invitation.status).toBe('pending');
    expect(invitation.endsAt).toBe(majorityAt('2019-09-09').toISOString());
    expect(new Date(invitation.expiresAt).getTime() - START.getTime()).toBe(30 * 86_400_000);
    // Re-sent: the same invitation.
    const again = await invite(second.patient.ins.matricule);
    expect(again.statusCode).toBe(200);
    expect(again.json<{ id: string }>().id).toBe(invitation.id);
    // Only the first representative may invite: the invitee cannot yet, a stranger never.
    const byStranger = await invite(second.patient.ins.matricule, second);
    expect(byStranger.statusCode).toBe(404);
    // Another one would make three.
    const third = await activePerson(rt);
    expect((await invite(third.patient.ins.matricule)).statusCode).toBe(409);

    const inbox = await rt.app.inject({ method: 'GET', url: '/api/invitations', headers: as(second) });
    expect(inbox.json<{ received: Array<{ id: string }> }>().received.map((i) => i.id)).toEqual([
      invitation.id,
    ]);
    // Nobody else may answer it.
    const hijack = await rt.app.inject({
      method: 'POST',
      url: `/api/invitations/${invitation.id}/accept`,
      headers: as(third),
    });
    expect(hijack.statusCode).toBe(404);
    const accepted = await rt.app.inject({
      method: 'POST',
      url: `/api/invitations/${invitation.id}/accept`,
      headers: as(second),
    });
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json<{ status: string }>().status).toBe('accepted');
    const twice = await rt.app.inject({
      method: 'POST',
      url: `/api/invitations/${invitation.id}/accept`,
      headers: as(second),
    });
    expect(twice.statusCode).toBe(200);

    for (const rep of [first, second]) {
      const profiles = await rt.app.inject({ method: 'GET', url: '/api/profiles', headers: as(rep) });
      expect(profiles.json<{ items: Profile[] }>().items.map((p) => p.patientId)).toContain(child.id);
      const docs = await rt.app.inject({ method: 'GET', url: '/api/documents', headers: as(rep, child.id) });
      expect(docs.statusCode).toBe(200);
    }
    const rules = await rt.ctx.rootDb
      .selectFrom('access_rules')
      .select(['person_id', 'ends_at'])
      .where('patient_id', '=', child.id)
      .where('kind', '=', 'representation')
      .execute();
    expect(rules).toHaveLength(2);
    expect(
      rules.every((r) => new Date(r.ends_at ?? 0).getTime() === majorityAt('2019-09-09').getTime()),
    ).toBe(true);
  });
});

describe('the 18th birthday', () => {
  it('cuts the parent off at majority, and the job invites the new adult once', async () => {
    const birth = '2008-06-10';
    const majority = majorityAt(birth);
    setClock(new Date(majority.getTime() - 60_000));
    const parent = await activePerson(rt);
    const child = await childOf(rt, parent.patient, birth, 'Jules');
    const pro = await seedProfessional(rt.ctx);
    await pushAsProfessional(rt, pro, child, { title: 'Certificat' });
    const list = () => rt.app.inject({ method: 'GET', url: '/api/documents', headers: as(parent, child.id) });

    expect((await list()).statusCode).toBe(200);
    expect((await processMajorities(rt.ctx, { limit: 100 })).processed).toBe(0);

    setClock(new Date(majority.getTime() + 1000));
    expect((await list()).statusCode).toBe(404);
    const profiles = await rt.app.inject({ method: 'GET', url: '/api/profiles', headers: as(parent) });
    expect(profiles.json<{ items: Profile[] }>().items.map((p) => p.patientId)).not.toContain(child.id);

    const report = await processMajorities(rt.ctx, { limit: 100 });
    expect(report.processed).toBeGreaterThanOrEqual(1);
    const notices = await rt.ctx.rootDb
      .selectFrom('account_notices')
      .select(['kind'])
      .where('patient_id', '=', child.id)
      .execute();
    expect(notices.map((n) => n.kind)).toEqual(['majority']);
    const codes = await rt.ctx.rootDb
      .selectFrom('provisional_codes')
      .select('id')
      .where('patient_id', '=', child.id)
      .execute();
    expect(codes).toHaveLength(1);
    const space = await rt.ctx.rootDb
      .selectFrom('patients')
      .select('account_status')
      .where('id', '=', child.id)
      .executeTakeFirstOrThrow();
    expect(space.account_status).toBe('open');

    // Once only.
    setClock(new Date(majority.getTime() + 86_400_000));
    await processMajorities(rt.ctx, { limit: 100 });
    const after = await rt.ctx.rootDb
      .selectFrom('account_notices')
      .select('id')
      .where('patient_id', '=', child.id)
      .execute();
    expect(after).toHaveLength(1);
  });
});
