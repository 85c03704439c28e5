import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processDelayedReleases } from '../../src/modules/documents/index.ts';
import { createTestRuntime, sessionCookieFor, type TestRuntime } from '../harness.ts';
import { PASSWORD, signedInPatient, type ApiDocument, type ApiPatient } from '../api/support.ts';
import {
  addRule,
  audited,
  clockOf,
  DAY,
  fhirReads,
  patientApi,
  professional,
  publish,
  renewTokens,
  search,
  START,
  TYPES,
  type Pro,
} from './support.ts';

/**
 * Delayed release (DOMAIN §3, TRE_A07 INVISIBLE_PATIENT): a document published with that label is
 * invisible to the person — list, read, download all behave as if it did not exist — while its
 * author and the care team see it; the scheduled job tells the person after two weeks, and the
 * document shows up on its own one month after receipt.
 */

let rt: TestRuntime;
let a: ApiPatient;
let author: Pro;
let team: Pro;
let delayed: string;
let plain: string;

beforeAll(async () => {
  rt = await createTestRuntime({ clock: START });
  a = await signedInPatient(rt);
  author = await professional(rt, '10');
  team = await professional(rt, '10');
  await addRule(rt, a.cookie, { kind: 'care_team', rpps: team.rpps });
  plain = await publish(rt, author, a.patient, { type: TYPES.lab });
  delayed = await publish(rt, author, a.patient, { type: TYPES.consult, labels: ['INVISIBLE_PATIENT'] });
});
afterAll(async () => {
  await rt?.close();
});

/** What the person sees of the delayed document: listed?, metadata status, download status. */
async function patientView(cookie: string): Promise<{ listed: boolean; read: number; content: number }> {
  const list = await patientApi(rt, cookie, 'GET', '/api/documents?status=all&limit=100');
  expect(list.statusCode).toBe(200);
  const ids = list.json<{ items: ApiDocument[] }>().items.map((d) => d.id);
  expect(ids).toContain(plain);
  const read = await patientApi(rt, cookie, 'GET', `/api/documents/${delayed}`);
  const content = await patientApi(rt, cookie, 'GET', `/api/documents/${delayed}/content`);
  return { listed: ids.includes(delayed), read: read.statusCode, content: content.statusCode };
}

const INVISIBLE = { listed: false, read: 404, content: 404 };
const VISIBLE = { listed: true, read: 200, content: 200 };

describe('a document published INVISIBLE_PATIENT', () => {
  it('is invisible to the person (as if missing), and each attempt is a recorded denial', async () => {
    const { value, rows } = await audited(rt, () => patientView(a.cookie));
    expect(value).toEqual(INVISIBLE);
    const missing = await patientApi(
      rt,
      a.cookie,
      'GET',
      '/api/documents/0190f2b4-0000-7000-8000-000000000000',
    );
    const hidden = await patientApi(rt, a.cookie, 'GET', `/api/documents/${delayed}`);
    expect(hidden.body).toBe(missing.body);
    const denials = rows.filter((r) => r.entity_id === delayed);
    expect(denials.map((r) => [r.entity_type, r.outcome, r.actor_kind])).toEqual([
      ['DocumentReference', 'denied', 'patient'],
      ['Binary', 'denied', 'patient'],
    ]);
    expect(denials[0]?.reason).toMatch(/release/);
    const listing = rows.find((r) => r.action === 'search');
    expect(listing?.details.returned).not.toContain(delayed);
  });

  it('is visible to its author and to the care team', async () => {
    expect(await fhirReads(rt, author.token, delayed)).toEqual([200, 200]);
    expect(await fhirReads(rt, team.token, delayed)).toEqual([200, 200]);
    expect((await search(rt, team.token, a.patient)).ids).toContain(delayed);
    const fhir = await rt.app.inject({
      method: 'GET',
      url: `/fhir/R4/DocumentReference/${delayed}`,
      headers: { authorization: `Bearer ${author.token}` },
    });
    const labels = fhir.json<{ securityLabel: Array<{ coding: Array<{ code: string }> }> }>().securityLabel;
    expect(labels.flatMap((l) => l.coding.map((c) => c.code))).toContain('INVISIBLE_PATIENT');
  });

  it('after two weeks the job records the notice; the person still does not see it', async () => {
    clockOf(rt).set(new Date(START.getTime() + 13 * DAY));
    expect(await processDelayedReleases(rt.ctx)).toEqual({ noticed: 0, released: 0 });
    clockOf(rt).set(new Date(START.getTime() + 14 * DAY));
    expect(await processDelayedReleases(rt.ctx)).toEqual({ noticed: 1, released: 0 });
    expect(await processDelayedReleases(rt.ctx)).toEqual({ noticed: 0, released: 0 });
    const row = await rt.ctx.rootDb
      .selectFrom('documents')
      .select(['release_notice_at', 'released_at', 'release_at'])
      .where('id', '=', delayed)
      .executeTakeFirstOrThrow();
    expect(new Date(row.release_notice_at as Date).toISOString()).toBe(clockOf(rt).now().toISOString());
    expect(row.released_at).toBeNull();
    const cookie = await sessionCookieFor(rt.app, a.login, PASSWORD);
    expect(await patientView(cookie)).toEqual(INVISIBLE);
  });

  it('one month after receipt the job releases it and the person sees it', async () => {
    const due = new Date(START);
    due.setUTCMonth(due.getUTCMonth() + 1);
    clockOf(rt).set(new Date(due.getTime() - 1000));
    const cookie = await sessionCookieFor(rt.app, a.login, PASSWORD);
    expect(await processDelayedReleases(rt.ctx)).toEqual({ noticed: 0, released: 0 });
    expect(await patientView(cookie)).toEqual(INVISIBLE);
    clockOf(rt).set(due);
    const { value, rows } = await audited(rt, () => processDelayedReleases(rt.ctx));
    expect(value).toEqual({ noticed: 0, released: 1 });
    expect(rows).toEqual([
      expect.objectContaining({
        entity_id: delayed,
        actor_kind: 'system',
        action: 'update',
        outcome: 'success',
        basis: 'system',
      }),
    ]);
    expect(await patientView(cookie)).toEqual(VISIBLE);
    await renewTokens(rt, author);
    expect(await fhirReads(rt, author.token, delayed)).toEqual([200, 200]);
  });
});
