import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestRuntime,
  makeMatricule,
  NIR_OID,
  seedPatient,
  sessionCookieFor,
  type TestRuntime,
} from '../../../test/harness.ts';
import { registerPatient } from '../identity/index.ts';
import { inAppSink } from './channels.ts';
import { deliverNotification } from './deliver.ts';
import { emailSink } from './email.ts';
import { enqueueNotification } from './enqueue.ts';
import type { NotificationType } from './notification.ts';

/** The notification centre and preferences over HTTP: each person sees and changes only their own. */

let rt: TestRuntime;
const PASSWORD = 'correct horse battery staple';
let seq = 0;

beforeAll(async () => {
  rt = await createTestRuntime({ env: { CARNET_DEMO: 'true' } });
});
afterAll(async () => rt?.close());

async function person() {
  const login = `notif.${Date.now()}.${seq++}@test.carnet`;
  const patient = await seedPatient(rt.ctx, { login, password: PASSWORD });
  return { patient, cookie: await sessionCookieFor(rt.app, login, PASSWORD) };
}

/** A notification as the worker would leave it in the centre (same code path, no queue). */
async function notify(patientId: string, type: NotificationType = 'message'): Promise<string> {
  const data = type === 'document_added' ? { documentId: patientId } : { messageId: patientId };
  const id = await enqueueNotification(rt.ctx.rootDb, { patientId, type, data });
  if (!id) throw new Error('not enqueued');
  await deliverNotification(rt.ctx, inAppSink(), { patientId, notificationId: id }, 1);
  return id;
}

async function get(cookie: string, url: string) {
  return rt.app.inject({ method: 'GET', url, headers: { cookie } });
}

describe('notification centre', () => {
  it('lists my notifications newest first, by page, with an unread filter and count', async () => {
    const { patient, cookie } = await person();
    const ids = [
      await notify(patient.id),
      await notify(patient.id, 'document_added'),
      await notify(patient.id),
    ];
    const page1 = await get(cookie, '/api/notifications?limit=2');
    expect(page1.statusCode).toBe(200);
    const body1 = page1.json<{
      items: Array<{ id: string; read: boolean; title: string }>;
      nextCursor: string;
      unreadCount: number;
    }>();
    expect(body1.items.map((i) => i.id)).toEqual([ids[2], ids[1]]);
    expect(body1.items[1]?.title).toBe('Nouveaux documents');
    expect(body1.unreadCount).toBe(3);
    const page2 = await get(cookie, `/api/notifications?limit=2&cursor=${body1.nextCursor}`);
    expect(page2.json<{ items: Array<{ id: string }>; nextCursor: null }>()).toMatchObject({
      items: [{ id: ids[0] }],
      nextCursor: null,
    });

    const read = await rt.app.inject({
      method: 'PUT',
      url: `/api/notifications/${ids[1]}/read-state`,
      headers: { cookie },
      payload: { read: true },
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ id: ids[1], read: true });
    const unread = (await get(cookie, '/api/notifications?unread=true')).json<{
      items: Array<{ id: string }>;
      unreadCount: number;
    }>();
    expect(unread.items.map((i) => i.id)).toEqual([ids[2], ids[0]]);
    expect(unread.unreadCount).toBe(2);
    const again = await rt.app.inject({
      method: 'PUT',
      url: `/api/notifications/${ids[1]}/read-state`,
      headers: { cookie },
      payload: { read: false },
    });
    expect(again.json()).toMatchObject({ read: false });

    const del = await rt.app.inject({
      method: 'DELETE',
      url: `/api/notifications/${ids[0]}`,
      headers: { cookie },
    });
    expect(del.statusCode).toBe(204);
    const after = (await get(cookie, '/api/notifications')).json<{ items: Array<{ id: string }> }>();
    expect(after.items.map((i) => i.id)).toEqual([ids[2], ids[1]]);
    expect(
      (await rt.app.inject({ method: 'DELETE', url: `/api/notifications/${ids[0]}`, headers: { cookie } }))
        .statusCode,
    ).toBe(404);
    // A deleted notification is never delivered again: its delivery is on record.
    await deliverNotification(
      rt.ctx,
      inAppSink(),
      { patientId: patient.id, notificationId: ids[0] as string },
      2,
    );
    expect((await get(cookie, '/api/notifications')).json<{ items: unknown[] }>().items).toHaveLength(2);
  });

  it('answers 404 for another person’s notification (and for unknown or malformed ids), and changes nothing', async () => {
    const alice = await person();
    const bob = await person();
    const aliceId = await notify(alice.patient.id);
    const attempts = [
      { method: 'PUT' as const, url: `/api/notifications/${aliceId}/read-state`, payload: { read: true } },
      { method: 'DELETE' as const, url: `/api/notifications/${aliceId}` },
      { method: 'DELETE' as const, url: '/api/notifications/0192f0c4-8f3a-7c1e-9a4b-3f2d1e0c9b8a' },
      { method: 'DELETE' as const, url: '/api/notifications/not-an-id' },
    ];
    for (const a of attempts) {
      const res = await rt.app.inject({ ...a, headers: { cookie: bob.cookie } });
      expect(res.statusCode, `${a.method} ${a.url}`).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: 'not_found' } });
    }
    expect((await get(bob.cookie, '/api/notifications')).json<{ items: unknown[] }>().items).toEqual([]);
    const aliceList = (await get(alice.cookie, '/api/notifications')).json<{
      items: Array<{ id: string; read: boolean }>;
    }>();
    expect(aliceList.items).toMatchObject([{ id: aliceId, read: false }]);
    // Bob's attempt on Alice's notification is in her record's audit trail, as a denial.
    const denials = await rt.ctx.rootDb
      .selectFrom('audit_events')
      .select(['outcome', 'entity_type'])
      .where('patient_id', '=', alice.patient.id)
      .where('entity_id', '=', aliceId)
      .execute();
    expect(denials).toEqual(expect.arrayContaining([{ outcome: 'denied', entity_type: 'Notification' }]));
  });

  it('needs a session', async () => {
    expect((await rt.app.inject({ method: 'GET', url: '/api/notifications' })).statusCode).toBe(401);
    expect((await rt.app.inject({ method: 'GET', url: '/api/notification-preferences' })).statusCode).toBe(
      401,
    );
  });
});

describe('notification preferences', () => {
  it('shows the grid, changes cells and the language, and refuses turning off accesses', async () => {
    const { patient, cookie } = await person();
    const initial = (await get(cookie, '/api/notification-preferences')).json<{
      language: string;
      preferences: Array<{ type: string; channel: string; enabled: boolean; mandatory: boolean }>;
    }>();
    expect(initial.language).toBe('fr');
    expect(
      initial.preferences.find((p) => p.type === 'professional_access' && p.channel === 'email'),
    ).toEqual({
      type: 'professional_access',
      channel: 'email',
      enabled: true,
      mandatory: true,
    });

    const put = await rt.app.inject({
      method: 'PUT',
      url: '/api/notification-preferences',
      headers: { cookie },
      payload: { language: 'en', preferences: [{ type: 'apps_recap', channel: 'email', enabled: false }] },
    });
    expect(put.statusCode).toBe(200);
    const changed = put.json<{
      language: string;
      preferences: Array<{ type: string; channel: string; enabled: boolean }>;
    }>();
    expect(changed.language).toBe('en');
    expect(changed.preferences.find((p) => p.type === 'apps_recap' && p.channel === 'email')?.enabled).toBe(
      false,
    );
    expect(changed.preferences.find((p) => p.type === 'apps_recap' && p.channel === 'in_app')?.enabled).toBe(
      true,
    );

    const refused = await rt.app.inject({
      method: 'PUT',
      url: '/api/notification-preferences',
      headers: { cookie },
      payload: {
        preferences: [
          { type: 'apps_recap', channel: 'email', enabled: true },
          { type: 'professional_access', channel: 'email', enabled: false },
        ],
      },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({
      error: {
        code: 'invalid_input',
        field: 'preferences.1.enabled',
        message: expect.stringMatching(/cannot be turned off/),
      },
    });
    // Nothing of the refused request was applied.
    const now = (await get(cookie, '/api/notification-preferences')).json<{
      preferences: Array<{ type: string; channel: string; enabled: boolean }>;
    }>();
    expect(now.preferences.find((p) => p.type === 'apps_recap' && p.channel === 'email')?.enabled).toBe(
      false,
    );

    const unknown = await rt.app.inject({
      method: 'PUT',
      url: '/api/notification-preferences',
      headers: { cookie },
      payload: { preferences: [{ type: 'newsletter', channel: 'email', enabled: false }] },
    });
    expect(unknown.statusCode).toBe(400);
    expect(patient.id).toBeTruthy();
  });
});

describe('development mail page', () => {
  it('lists the local outbox and shows a mail as stored', async () => {
    const { patient } = await registerPatient(rt.ctx, {
      matricule: makeMatricule(),
      oid: NIR_OID,
      given: 'Inès',
      family: 'Morel',
      birthDate: '1975-07-08',
      sex: 'F',
      email: 'ines.morel@example.test',
    });
    const id = await enqueueNotification(rt.ctx.rootDb, {
      patientId: patient.id,
      type: 'document_added',
      data: { documentId: patient.id },
    });
    await deliverNotification(
      rt.ctx,
      emailSink(rt.ctx.config),
      { patientId: patient.id, notificationId: id as string },
      1,
    );
    const page = await rt.app.inject({ method: 'GET', url: '/dev/mail' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('Nouveaux documents');
    expect(page.body).toContain('ines.morel@example.test');
    const one = await rt.app.inject({ method: 'GET', url: `/dev/mail/${id}` });
    expect(one.statusCode).toBe(200);
    expect(one.body).toContain(`Message-ID: <${id}@notifications.carnet>`);
    expect((await rt.app.inject({ method: 'GET', url: '/dev/mail/../../etc/passwd' })).statusCode).toBe(404);
  });
});
