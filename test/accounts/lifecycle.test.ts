import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeDueSuspensions,
  closeSpace,
  eraseDueSpaces,
  erasureReference,
  openDueSpaces,
  operatorActor,
  opposeSpace,
  reopenSpace,
  suspendSpace,
  unsuspendSpace,
  SYSTEM_ACTOR,
} from '../../src/modules/accounts/index.ts';
import { deliverPendingNotices } from '../../src/modules/accounts/notices.ts';
import { grantRepresentation, type PatientActor } from '../../src/modules/access/index.ts';
import { sealAuditEvents, verifyAuditChains } from '../../src/modules/audit/index.ts';
import { getDocument } from '../../src/modules/documents/index.ts';
import { registerPatient } from '../../src/modules/identity/index.ts';
import { openDocument } from '../../src/platform/crypto.ts';
import { createTestRuntime, NIR_OID, seedPatient, seedProfessional, type TestRuntime } from '../harness.ts';
import { actorFor, pushAsProfessional } from '../api/support.ts';
import {
  clockOf,
  DAY,
  HOUR,
  noticesOf,
  pendingPerson,
  rowsMentioning,
  START,
  statusOf,
  WEEK,
} from './support.ts';

/**
 * The life of a space with a controllable clock (DOMAIN §2): 6 weeks of opposition window, then
 * creation; closure archived 10 years, or erased 3 months after a request; re-opening; operator
 * suspension closed after 6 weeks. Each test moves the clock forward only.
 */

let rt: TestRuntime;
const operator = operatorActor('test-operator');
const owner = (patientId: string): PatientActor => ({
  kind: 'patient',
  patientId,
  display: 'Camille Test',
  sessionId: 'test',
});

beforeAll(async () => {
  rt = await createTestRuntime({ clock: START });
});
afterAll(async () => {
  await rt?.close();
});

describe('creation after the opposition window', () => {
  it('opens pending spaces after 6 weeks with the record already there; opposed ones stay opposed; idempotent', async () => {
    const clock = clockOf(rt);
    const deadline = new Date(clock.now().getTime() + 6 * WEEK);
    const quiet = await pendingPerson(rt, deadline);
    const opposing = await pendingPerson(rt, deadline);
    const pro = await seedProfessional(rt.ctx);
    // A professional pushes a document while the space is pending: the record exists already.
    const doc = await pushAsProfessional(rt, pro, quiet.patient);
    await opposeSpace(rt.ctx, {
      code: opposing.code,
      matricule: opposing.patient.ins.matricule,
      birthDate: opposing.patient.birthDate,
    });

    clock.advance(6 * WEEK - HOUR);
    await openDueSpaces(rt.ctx);
    expect((await statusOf(rt, quiet.patient.id))?.account_status).toBe('pending');

    clock.advance(2 * HOUR);
    const first = await openDueSpaces(rt.ctx, { batchSize: 1 });
    expect(first.opened).toBeGreaterThanOrEqual(1);
    expect((await statusOf(rt, quiet.patient.id))?.account_status).toBe('open');
    expect((await statusOf(rt, opposing.patient.id))?.account_status).toBe('opposed');
    expect(await openDueSpaces(rt.ctx)).toEqual({ opened: 0 });

    // Attached: the document pushed before is the person's, under the same id.
    const seen = await getDocument(rt.ctx, owner(quiet.patient.id), doc.id);
    expect(seen.id).toBe(doc.id);
    const events = await rt.ctx.rootDb
      .selectFrom('audit_events')
      .selectAll()
      .where('patient_id', '=', quiet.patient.id)
      .where('action', '=', 'manage')
      .execute();
    expect(events.map((e) => [e.actor_kind, e.details.operation])).toContainEqual(['system', 'open']);
  });
});

describe('closure, archive and re-opening', () => {
  it('closes (professionals and representatives lose access, sessions revoked), then re-opening restores everything', async () => {
    const clock = clockOf(rt);
    const person = await seedPatient(rt.ctx);
    const parent = await seedPatient(rt.ctx);
    const pro = await seedProfessional(rt.ctx);
    const doc = await pushAsProfessional(rt, pro, person);
    await grantRepresentation(rt.ctx, SYSTEM_ACTOR, person.id, {
      personId: parent.id,
      role: 'legal_representative',
    });
    const rep = { kind: 'representative' as const, personId: parent.id, display: 'Parent', sessionId: 's' };
    expect((await getDocument(rt.ctx, actorFor(pro), doc.id)).id).toBe(doc.id);
    expect((await getDocument(rt.ctx, rep, doc.id)).id).toBe(doc.id);

    const state = await closeSpace(rt.ctx, owner(person.id), person.id);
    expect(state.status).toBe('closed');
    const tenYears = new Date(clock.now());
    tenYears.setUTCFullYear(tenYears.getUTCFullYear() + 10);
    expect(state.eraseAfter).toBe(tenYears.toISOString());
    await expect(getDocument(rt.ctx, actorFor(pro), doc.id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(getDocument(rt.ctx, rep, doc.id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(getDocument(rt.ctx, owner(person.id), doc.id)).rejects.toMatchObject({ code: 'not_found' });
    expect(await noticesOf(rt, person.id)).toContain('closure');
    // Closing again is idempotent.
    expect((await closeSpace(rt.ctx, owner(person.id), person.id)).eraseAfter).toBe(state.eraseAfter);

    clock.advance(5 * 365 * DAY);
    expect((await eraseDueSpaces(rt.ctx)).erased).toBe(0);
    const reopened = await reopenSpace(rt.ctx, owner(person.id), person.id);
    expect(reopened).toMatchObject({ status: 'open', closedAt: null, eraseAfter: null });
    expect((await getDocument(rt.ctx, actorFor(pro), doc.id)).id).toBe(doc.id);
    expect((await getDocument(rt.ctx, rep, doc.id)).id).toBe(doc.id);
    expect((await getDocument(rt.ctx, owner(person.id), doc.id)).id).toBe(doc.id);
    expect(await noticesOf(rt, person.id)).toContain('reopening');
    await expect(reopenSpace(rt.ctx, owner(person.id), person.id)).rejects.toMatchObject({
      code: 'conflict',
    });
  });

  it('erases a closed space after 10 years: every row, file and key, the audit chain too; the person can come back as new', async () => {
    const clock = clockOf(rt);
    const person = await seedPatient(rt.ctx);
    const child = await seedPatient(rt.ctx, { birthDate: '2020-01-01' });
    const pro = await seedProfessional(rt.ctx);
    const doc = await pushAsProfessional(rt, pro, person);
    // The person represents someone else: that rule goes with them, the other record stays.
    await grantRepresentation(rt.ctx, SYSTEM_ACTOR, child.id, {
      personId: person.id,
      role: 'legal_representative',
    });
    const row = await rt.ctx.rootDb
      .selectFrom('documents')
      .select(['blob_key', 'wrapped_key'])
      .where('id', '=', doc.id)
      .executeTakeFirstOrThrow();
    const copiedAside = await rt.ctx.blobs.get(row.blob_key);
    await sealAuditEvents(rt.ctx); // a signed checkpoint now vouches for the person's chain

    await closeSpace(rt.ctx, owner(person.id), person.id);
    await deliverPendingNotices(rt.ctx); // the closure notice becomes a letter (no e-mail address)
    const letters: string[] = [];
    for await (const b of rt.ctx.blobs.list(`letters/${person.id}/`)) letters.push(b.key);
    expect(letters.length).toBeGreaterThanOrEqual(1);
    clock.advance(10 * 365 * DAY); // leap days: not quite 10 calendar years yet
    expect((await eraseDueSpaces(rt.ctx)).erased).toBe(0);
    clock.advance(5 * DAY);
    expect(await eraseDueSpaces(rt.ctx)).toEqual({ erased: 1, failed: 0 });
    expect(await eraseDueSpaces(rt.ctx)).toEqual({ erased: 0, failed: 0 });

    expect(await rowsMentioning(rt, person.id)).toEqual({});
    await expect(rt.ctx.blobs.get(row.blob_key)).rejects.toMatchObject({ code: 'not_found' });
    const left: string[] = [];
    for await (const b of rt.ctx.blobs.list(`docs/${person.id}/`)) left.push(b.key);
    for await (const b of rt.ctx.blobs.list(`letters/${person.id}/`)) left.push(b.key);
    expect(left).toEqual([]);
    // Crypto-shredding: the copy cannot be opened without its wrapped key, which is gone with the row.
    expect(
      openDocument(rt.ctx.masterKey, copiedAside, row.wrapped_key, `${person.id}/${doc.id}`).length,
    ).toBeGreaterThan(0);
    expect(
      await rt.ctx.rootDb.selectFrom('documents').select('id').where('id', '=', doc.id).execute(),
    ).toEqual([]);
    expect(() =>
      openDocument(
        rt.ctx.masterKey,
        copiedAside,
        randomBytes(row.wrapped_key.length),
        `${person.id}/${doc.id}`,
      ),
    ).toThrow();

    const trace = await rt.ctx.rootDb
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'erase')
      .where('patient_id', 'is', null)
      .execute();
    expect(trace.map((e) => e.details.reference)).toContain(erasureReference(rt.ctx, person.id));
    expect(JSON.stringify(trace)).not.toContain(person.id);
    // The child's record is intact, the audit chains and checkpoints still verify.
    expect((await statusOf(rt, child.id))?.account_status).toBe('open');
    await sealAuditEvents(rt.ctx);
    const report = await verifyAuditChains(rt.ctx, { unsealedGraceSeconds: 0 });
    expect(report.breaks).toEqual([]);
    expect(report.ok).toBe(true);

    const again = await registerPatient(rt.ctx, {
      matricule: person.ins.matricule,
      oid: NIR_OID,
      given: person.given,
      family: person.family,
      birthDate: person.birthDate,
      sex: person.sex,
    });
    expect(again.patient.id).not.toBe(person.id);
  });

  it('erases within 3 months when asked at closure, or asked later on a closed space', async () => {
    const clock = clockOf(rt);
    const asking = await seedPatient(rt.ctx);
    const later = await seedPatient(rt.ctx);
    const state = await closeSpace(rt.ctx, owner(asking.id), asking.id, { eraseNow: true });
    await closeSpace(rt.ctx, operator, later.id);
    const shortened = await closeSpace(rt.ctx, owner(later.id), later.id, { eraseNow: true });
    expect(shortened.eraseAfter).toBe(state.eraseAfter);
    const threeMonths = new Date(clock.now());
    threeMonths.setUTCMonth(threeMonths.getUTCMonth() + 3);
    expect(state.eraseAfter).toBe(threeMonths.toISOString());

    clock.advance(89 * DAY);
    expect((await eraseDueSpaces(rt.ctx)).erased).toBe(0);
    clock.advance(3 * DAY);
    expect((await eraseDueSpaces(rt.ctx)).erased).toBe(2);
    expect(await statusOf(rt, asking.id)).toBeUndefined();
    expect(await statusOf(rt, later.id)).toBeUndefined();
  });
});

describe('operator suspension', () => {
  it('suspends (sessions revoked, the owner locked out), closes after 6 weeks, and only an operator re-opens', async () => {
    const clock = clockOf(rt);
    const person = await seedPatient(rt.ctx);
    const pro = await seedProfessional(rt.ctx);
    const doc = await pushAsProfessional(rt, pro, person);
    await rt.ctx.rootDb
      .insertInto('sessions')
      .values({
        patient_id: person.id,
        id: crypto.randomUUID(),
        token_hash: randomBytes(32),
        expires_at: new Date(clock.now().getTime() + DAY),
      })
      .execute();

    const s = await suspendSpace(rt.ctx, operator, person.id, 'identity theft reported');
    expect(s.status).toBe('suspended');
    expect(s.suspensionDeadline).toBe(new Date(clock.now().getTime() + 6 * WEEK).toISOString());
    const live = await rt.ctx.rootDb
      .selectFrom('sessions')
      .select('id')
      .where('patient_id', '=', person.id)
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toEqual([]);
    expect(await noticesOf(rt, person.id)).toContain('suspension');
    await expect(getDocument(rt.ctx, owner(person.id), doc.id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(closeSpace(rt.ctx, owner(person.id), person.id)).rejects.toMatchObject({
      code: 'not_found',
    });

    clock.advance(6 * WEEK - HOUR);
    expect((await closeDueSuspensions(rt.ctx)).closed).toBe(0);
    clock.advance(2 * HOUR);
    expect((await closeDueSuspensions(rt.ctx)).closed).toBe(1);
    expect(await closeDueSuspensions(rt.ctx)).toEqual({ closed: 0 });
    const closed = await statusOf(rt, person.id);
    expect(closed?.account_status).toBe('closed');
    expect(closed?.erase_after?.getUTCFullYear()).toBe(clock.now().getUTCFullYear() + 10);
    await expect(reopenSpace(rt.ctx, owner(person.id), person.id)).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect((await reopenSpace(rt.ctx, operator, person.id)).status).toBe('open');
    expect((await getDocument(rt.ctx, owner(person.id), doc.id)).id).toBe(doc.id);
  });

  it('a lifted suspension is not closed by the job', async () => {
    const clock = clockOf(rt);
    const person = await seedPatient(rt.ctx);
    await suspendSpace(rt.ctx, operator, person.id, 'check');
    expect((await unsuspendSpace(rt.ctx, operator, person.id)).status).toBe('open');
    await expect(unsuspendSpace(rt.ctx, operator, person.id)).rejects.toMatchObject({ code: 'conflict' });
    await expect(suspendSpace(rt.ctx, operator, person.id, '  ')).rejects.toMatchObject({
      code: 'invalid_input',
    });
    clock.advance(7 * WEEK);
    await closeDueSuspensions(rt.ctx);
    expect((await statusOf(rt, person.id))?.account_status).toBe('open');
    const suspensions = await rt.ctx.rootDb
      .selectFrom('account_suspensions')
      .select(['outcome', 'ended_by'])
      .where('patient_id', '=', person.id)
      .execute();
    expect(suspensions).toEqual([{ outcome: 'lifted', ended_by: 'test-operator' }]);
  });
});
