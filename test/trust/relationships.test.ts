import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, type TestRuntime } from '../harness.ts';
import { signedInPatient, type ApiPatient } from '../api/support.ts';
import {
  addRule,
  audited,
  clockOf,
  DAY,
  fhirReads,
  HIDDEN,
  patientApi,
  professional,
  publish,
  putSettings,
  renewTokens,
  revokeRule,
  search,
  SEEN,
  setMasked,
  shareWith,
  START,
  TYPES,
  view,
  type Pro,
} from './support.ts';

/**
 * The relationships a person sets on their record (DOMAIN §4), end to end over HTTP: each change
 * takes effect on the very next request of the professional, with the same live token, and every
 * decision is on the audit trail with its legal basis.
 */

let rt: TestRuntime;
let a: ApiPatient;
let author: Pro;
/** consult: CR de consultation; psy: synthèse psychiatrique; masked: a CR the patient hid. */
let docs: { consult: string; psy: string; masked: string };

beforeAll(async () => {
  rt = await createTestRuntime({ clock: START, env: { CARNET_SESSION_TTL_HOURS: '720' } });
  a = await signedInPatient(rt);
  author = await professional(rt, '10');
  docs = {
    consult: await publish(rt, author, a.patient, { type: TYPES.consult }),
    psy: await publish(rt, author, a.patient, { type: TYPES.psychiatric }),
    masked: await publish(rt, author, a.patient, { type: TYPES.consult }),
  };
  await setMasked(rt, a.cookie, docs.masked, true);
});
afterAll(async () => {
  await rt?.close();
});

describe('care team', () => {
  it('a nurse with no relationship sees nothing; once in the care team, what the matrix allows', async () => {
    const nurse = await professional(rt, '60');
    expect(await view(rt, nurse, a.patient, docs)).toEqual({ consult: HIDDEN, psy: HIDDEN, masked: HIDDEN });
    const empty = await search(rt, nurse.token, a.patient);
    expect(empty.res.json()).toMatchObject({ total: 0 });

    const ruleId = await addRule(rt, a.cookie, { kind: 'care_team', rpps: nurse.rpps });
    // The very next request, same token: the consultation report, not the psychiatric summary
    // (matrix: nurses × 68599-0 denied), not the masked document.
    const { value: seen, rows } = await audited(rt, () => view(rt, nurse, a.patient, docs));
    expect(seen).toEqual({ consult: SEEN, psy: HIDDEN, masked: HIDDEN });

    const reads = rows.filter((r) => r.actor_id === nurse.rpps && r.action === 'read');
    const byEntity = (type: string, id: string) =>
      reads.filter((r) => r.entity_type === type && r.entity_id === id).map((r) => [r.outcome, r.basis]);
    expect(byEntity('DocumentReference', docs.consult)).toEqual([['success', 'care-team']]);
    expect(byEntity('Binary', docs.consult)).toEqual([['success', 'care-team']]);
    expect(byEntity('DocumentReference', docs.psy)).toEqual([['denied', null]]);
    expect(byEntity('DocumentReference', docs.masked)).toEqual([['denied', null]]);
    const consultRead = reads.find((r) => r.entity_id === docs.consult && r.outcome === 'success');
    expect(consultRead?.details).toMatchObject({ ruleId, role: { professionCode: '60' } });
    const denial = reads.find((r) => r.entity_id === docs.psy);
    expect(denial).toMatchObject({ patient_id: a.patient.id, reason: expect.stringMatching(/profession/) });
    const searches = rows.filter((r) => r.actor_id === nurse.rpps && r.action === 'search');
    expect(searches.map((r) => [r.outcome, r.basis, r.details.returned])).toEqual([
      ['success', 'care-team', [docs.consult]],
    ]);
  });
});

describe('explicit consent', () => {
  it('is recorded with its time and channel, opens access, and its revocation closes it at once', async () => {
    const doctor = await professional(rt, '10');
    const ruleId = await addRule(rt, a.cookie, { kind: 'consent', rpps: doctor.rpps, channel: 'phone' });
    const privacy = await patientApi(rt, a.cookie, 'GET', '/api/privacy');
    expect(privacy.json<{ rules: unknown[] }>().rules).toContainEqual(
      expect.objectContaining({
        id: ruleId,
        kind: 'consent',
        channel: 'phone',
        startsAt: clockOf(rt).now().toISOString(),
        endsAt: null,
        professional: expect.objectContaining({ rpps: doctor.rpps }),
      }),
    );
    const { value, rows } = await audited(rt, () => fhirReads(rt, doctor.token, docs.psy));
    expect(value).toEqual([200, 200]);
    expect(rows.map((r) => [r.entity_type, r.basis, r.details.ruleId])).toEqual([
      ['DocumentReference', 'consent', ruleId],
      ['Binary', 'consent', ruleId],
    ]);
    expect(await view(rt, doctor, a.patient, docs)).toEqual({ consult: SEEN, psy: SEEN, masked: HIDDEN });

    await revokeRule(rt, a.cookie, ruleId);
    expect(await view(rt, doctor, a.patient, docs)).toEqual({ consult: HIDDEN, psy: HIDDEN, masked: HIDDEN });
  });

  it('given until a date ends by itself', async () => {
    const doctor = await professional(rt, '10');
    const until = new Date(clockOf(rt).now().getTime() + 2 * DAY);
    await addRule(rt, a.cookie, {
      kind: 'consent',
      rpps: doctor.rpps,
      channel: 'in_person',
      until: until.toISOString(),
    });
    clockOf(rt).set(new Date(until.getTime() - 60_000));
    await renewTokens(rt, doctor);
    expect(await fhirReads(rt, doctor.token, docs.consult)).toEqual([200, 200]);
    clockOf(rt).set(new Date(until.getTime() + 1));
    expect(await fhirReads(rt, doctor.token, docs.consult)).toEqual([404, 404]);
  });
});

describe('roles and masking', () => {
  it.each([
    ['gp', 'gp'],
    ['administrator', 'administrator'],
  ] as const)('a %s sees masked documents', async (role, basis) => {
    const doctor = await professional(rt, '10');
    await addRule(rt, a.cookie, { kind: 'role', rpps: doctor.rpps, role });
    expect(await view(rt, doctor, a.patient, docs)).toEqual({ consult: SEEN, psy: SEEN, masked: SEEN });
    const { rows } = await audited(rt, () => fhirReads(rt, doctor.token, docs.masked));
    expect(rows.map((r) => [r.outcome, r.basis])).toEqual([
      ['success', basis],
      ['success', basis],
    ]);
  });

  it('the care team does not see masked documents; unmasking shows them on the next request', async () => {
    const doctor = await professional(rt, '10');
    await addRule(rt, a.cookie, { kind: 'care_team', rpps: doctor.rpps });
    expect((await view(rt, doctor, a.patient, docs)).masked).toEqual(HIDDEN);
    await setMasked(rt, a.cookie, docs.masked, false);
    expect((await view(rt, doctor, a.patient, docs)).masked).toEqual(SEEN);
    await setMasked(rt, a.cookie, docs.masked, true);
    expect((await view(rt, doctor, a.patient, docs)).masked).toEqual(HIDDEN);
  });

  it('the author always sees what they wrote, masked or not', async () => {
    await renewTokens(rt, author);
    const { value, rows } = await audited(rt, () => view(rt, author, a.patient, docs));
    expect(value).toEqual({ consult: SEEN, psy: SEEN, masked: SEEN });
    expect(new Set(rows.filter((r) => r.action === 'read').map((r) => r.basis))).toEqual(new Set(['author']));
  });
});

describe('blocking', () => {
  it('takes effect on the next request with the same live token, and lifting it restores access', async () => {
    const doctor = await professional(rt, '10');
    await addRule(rt, a.cookie, { kind: 'role', rpps: doctor.rpps, role: 'gp' });
    expect((await view(rt, doctor, a.patient, docs)).consult).toEqual(SEEN);
    const blockId = await addRule(rt, a.cookie, { kind: 'block', rpps: doctor.rpps });
    const { value, rows } = await audited(rt, () => view(rt, doctor, a.patient, docs));
    expect(value).toEqual({ consult: HIDDEN, psy: HIDDEN, masked: HIDDEN });
    const denials = rows.filter((r) => r.outcome === 'denied');
    expect(denials).toHaveLength(6);
    for (const d of denials)
      expect(d).toMatchObject({ actor_id: doctor.rpps, reason: 'blocked by the patient' });
    await revokeRule(rt, a.cookie, blockId);
    expect((await view(rt, doctor, a.patient, docs)).masked).toEqual(SEEN);
  });
});

describe('sharing one document', () => {
  it('shows exactly that document to a stranger until the date, then nothing', async () => {
    const stranger = await professional(rt, '10');
    const until = new Date(clockOf(rt).now().getTime() + 7 * DAY);
    const shareId = await shareWith(rt, a.cookie, docs.masked, stranger.rpps, until);
    const { value, rows } = await audited(rt, () => view(rt, stranger, a.patient, docs));
    expect(value).toEqual({ consult: HIDDEN, psy: HIDDEN, masked: SEEN });
    const granted = rows.filter((r) => r.outcome === 'success' && r.action === 'read');
    expect(granted.map((r) => [r.entity_id, r.basis, r.details.ruleId])).toEqual([
      [docs.masked, 'shared-with', shareId],
      [docs.masked, 'shared-with', shareId],
    ]);
    clockOf(rt).set(new Date(until.getTime() + 1));
    await renewTokens(rt, stranger);
    expect((await view(rt, stranger, a.patient, docs)).masked).toEqual(HIDDEN);
  });

  it('a revoked share closes on the next request', async () => {
    const stranger = await professional(rt, '60');
    const until = new Date(clockOf(rt).now().getTime() + 30 * DAY);
    const shareId = await shareWith(rt, a.cookie, docs.consult, stranger.rpps, until);
    expect(await fhirReads(rt, stranger.token, docs.consult)).toEqual([200, 200]);
    await revokeRule(rt, a.cookie, shareId);
    expect(await fhirReads(rt, stranger.token, docs.consult)).toEqual([404, 404]);
  });
});

describe('mask by default', () => {
  it('masks present and future documents from the care team, not from the GP or the author', async () => {
    const team = await professional(rt, '10');
    const gp = await professional(rt, '10');
    await renewTokens(rt, author);
    await addRule(rt, a.cookie, { kind: 'care_team', rpps: team.rpps });
    await addRule(rt, a.cookie, { kind: 'role', rpps: gp.rpps, role: 'gp' });
    const before = await publish(rt, author, a.patient, { type: TYPES.lab });
    await putSettings(rt, a.cookie, { maskByDefault: true });
    const after = await publish(rt, author, a.patient, { type: TYPES.lab });
    const meta = await patientApi(rt, a.cookie, 'GET', `/api/documents/${after}`);
    expect(meta.statusCode).toBe(200);

    // DOMAIN §4.3: "mask by default" covers the documents already there and those to come.
    expect(await view(rt, team, a.patient, { before, after })).toEqual({ before: HIDDEN, after: HIDDEN });
    expect(await view(rt, gp, a.patient, { before, after })).toEqual({ before: SEEN, after: SEEN });
    expect(await view(rt, author, a.patient, { before, after })).toEqual({ before: SEEN, after: SEEN });
    const row = await rt.ctx.rootDb
      .selectFrom('documents')
      .select(['id', 'masked'])
      .where('id', 'in', [before, after])
      .orderBy('id')
      .execute();
    // No per-document choice was made: both follow the setting.
    expect(row).toEqual([
      { id: before, masked: null },
      { id: after, masked: null },
    ]);
    // The person may still show one of them, whatever the default…
    await setMasked(rt, a.cookie, after, false);
    expect(await view(rt, team, a.patient, { before, after })).toEqual({ before: HIDDEN, after: SEEN });
    // …and turning the default off shows the others again, but not one hidden on purpose.
    await setMasked(rt, a.cookie, before, true);
    await putSettings(rt, a.cookie, { maskByDefault: false });
    expect(await view(rt, team, a.patient, { before, after })).toEqual({ before: HIDDEN, after: SEEN });
    await setMasked(rt, a.cookie, before, null);
    expect((await view(rt, team, a.patient, { before })).before).toEqual(SEEN);
  });
});
