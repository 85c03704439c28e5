import { AppError, invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { isUuid, uuidv7 } from '../../platform/ids.ts';
import type { InvitationRole, InvitationStatus } from '../../platform/db/schema-family.ts';
import {
  addRepresentation,
  endRepresentation,
  guarded,
  recordDenial,
  requireAccess,
  type Actor,
  type PatientActor,
  type RepresentativeActor,
  type SystemActor,
} from '../access/index.ts';
import { recordAuditEvent } from '../audit/index.ts';
import { majorityAt } from '../identity/index.ts';
import {
  effectiveStatus,
  invitationExpiry,
  MAX_CAREGIVERS_PER_PERSON,
  MAX_LEGAL_REPRESENTATIVES,
  MAX_PEOPLE_PER_CAREGIVER,
  normalizeMatricule,
  parseCaregiverEnd,
  parseCaregiverScopes,
} from './family.ts';
import * as repo from './family.repository.ts';
import type { InvitationRow, PersonRow } from './family.repository.ts';

/**
 * Invitations to represent or help a person (DOMAIN §2): a legal representative invites the
 * second one for a child; a person (or their legal representative) invites a caregiver with
 * chosen scopes and an end date. The invitee must hold an active space. Accepting writes the
 * representation rule through the access module, in the same transaction; either side may end a
 * caregiver's help. Every step is on the audit trail of the person concerned.
 */

export interface InvitationView {
  id: string;
  role: InvitationRole;
  status: InvitationStatus;
  person: { id: string; display: string };
  invitee: { id: string; display: string };
  invitedBy: { id: string; display: string };
  scopes: string[];
  endsAt: string | null;
  expiresAt: string;
  createdAt: string;
  respondedAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
}

export interface Invitee {
  matricule?: string | undefined;
  email?: string | undefined;
}

const display = (p: PersonRow | undefined) => (p ? `${p.given} ${p.family}` : 'Personne inconnue');
const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

async function present(ctx: Ctx, rows: InvitationRow[]): Promise<InvitationView[]> {
  const ids = [...new Set(rows.flatMap((r) => [r.patient_id, r.invitee_id, r.invited_by]))];
  const people = new Map((await repo.findPeople(ctx.db, ids)).map((p) => [p.id, p]));
  const now = ctx.clock.now();
  return rows.map((r) => ({
    id: r.id,
    role: r.role,
    status: effectiveStatus(r, now),
    person: { id: r.patient_id, display: display(people.get(r.patient_id)) },
    invitee: { id: r.invitee_id, display: display(people.get(r.invitee_id)) },
    invitedBy: { id: r.invited_by, display: display(people.get(r.invited_by)) },
    scopes: [...r.scopes],
    endsAt: iso(r.ends_at),
    expiresAt: new Date(r.expires_at).toISOString(),
    createdAt: new Date(r.created_at).toISOString(),
    respondedAt: iso(r.responded_at),
    revokedAt: iso(r.revoked_at),
    revokedBy: r.revoked_by,
  }));
}

async function presentOne(ctx: Ctx, row: InvitationRow): Promise<InvitationView> {
  const [view] = await present(ctx, [row]);
  if (!view) throw new AppError('internal', 'invitation vanished');
  return view;
}

/** The invited person, by matricule or e-mail; they must hold an active space. */
async function resolveInvitee(ctx: Ctx, input: Invitee): Promise<PersonRow> {
  if ((input.matricule === undefined) === (input.email === undefined))
    throw invalid('Give the matricule or the e-mail address of the person to invite', 'matricule');
  const field = input.matricule !== undefined ? 'matricule' : 'email';
  const found =
    input.matricule !== undefined
      ? await repo.findPeopleByMatricule(ctx.db, normalizeMatricule(input.matricule))
      : await repo.findPeopleByEmail(ctx.db, (input.email ?? '').trim());
  if (found.length > 1)
    throw invalid('Several spaces match this e-mail address: give the matricule instead', field);
  const person = found[0];
  if (!person) throw invalid('No space matches this person', field);
  if (person.account_status !== 'open' || person.activated_at === null) {
    throw new AppError(
      'conflict',
      'The invited person must first activate their own space (an active space is required)',
      field,
    );
  }
  return person;
}

const sameScopes = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((s) => b.includes(s));

/** The pending invitation for this pair, if still valid; an expired one is marked so. */
async function livePending(
  tx: Ctx,
  patientId: string,
  inviteeId: string,
  role: InvitationRole,
): Promise<InvitationRow | undefined> {
  const pending = await repo.findPendingInvitation(tx.db, patientId, inviteeId, role);
  if (!pending) return undefined;
  if (effectiveStatus(pending, tx.clock.now()) === 'pending') return pending;
  await repo.updateInvitation(tx.db, patientId, pending.id, { status: 'expired' });
  return undefined;
}

/**
 * A legal representative of a minor invites the second one (DOMAIN §2). Idempotent: the same
 * pending invitation is answered again (created: false).
 * @example await inviteLegalRepresentative(ctx, self, childId, { matricule });
 */
export async function inviteLegalRepresentative(
  ctx: Ctx,
  self: PatientActor,
  childId: string,
  input: Invitee,
): Promise<{ invitation: InvitationView; created: boolean }> {
  const actor: RepresentativeActor = {
    kind: 'representative',
    personId: self.patientId,
    display: self.display,
    sessionId: self.sessionId,
  };
  if (!isUuid(childId)) {
    await denyUnknown(ctx, actor, 'AccessRule', childId, 'no such record');
  }
  return guarded(ctx, async (tx) => {
    await requireAccess(tx, actor, {
      patientId: childId,
      action: 'manage',
      entity: { type: 'AccessRule' },
      details: { invitation: 'legal_representative' },
    });
    const now = tx.clock.now();
    const reps = await repo.liveRepresentations(tx.db, childId, now, 'legal_representative');
    if (!reps.some((r) => r.person_id === self.patientId))
      throw new AppError('forbidden', 'Only a legal representative of the child may invite the second one');
    const child = await repo.findPerson(tx.db, childId);
    if (!child) throw new AppError('not_found', 'Not found');
    const majority = majorityAt(child.birth_date);
    if (majority <= now) throw new AppError('conflict', 'An adult chooses their own representatives');
    const invitee = await resolveInvitee(tx, input);
    if (invitee.id === childId || invitee.id === self.patientId)
      throw invalid('Invite the other legal representative', input.matricule ? 'matricule' : 'email');
    if (reps.some((r) => r.person_id === invitee.id))
      throw new AppError('conflict', 'This person is already a legal representative of the child');
    await repo.lockPerson(tx.db, childId);
    const pending = await livePending(tx, childId, invitee.id, 'legal_representative');
    if (pending) return { invitation: await presentOne(tx, pending), created: false };
    const pendingOnes = await repo.countPending(tx.db, childId, 'legal_representative', now);
    if (reps.length + pendingOnes >= MAX_LEGAL_REPRESENTATIVES)
      throw new AppError(
        'conflict',
        `A child has at most ${MAX_LEGAL_REPRESENTATIVES} legal representatives (including invitations awaiting an answer)`,
      );
    const row = await insert(tx, {
      patientId: childId,
      role: 'legal_representative',
      invitedBy: self.patientId,
      inviteeId: invitee.id,
      scopes: [],
      endsAt: majority,
    });
    return { invitation: await presentOne(tx, row), created: true };
  });
}

async function insert(
  tx: Ctx,
  input: {
    patientId: string;
    role: InvitationRole;
    invitedBy: string;
    inviteeId: string;
    scopes: string[];
    endsAt: Date | null;
  },
): Promise<InvitationRow> {
  const now = tx.clock.now();
  const id = uuidv7(now.getTime());
  await repo.insertInvitation(tx.db, {
    patient_id: input.patientId,
    id,
    role: input.role,
    invited_by: input.invitedBy,
    invitee_id: input.inviteeId,
    scopes: input.scopes,
    ends_at: input.endsAt,
    status: 'pending',
    expires_at: invitationExpiry(input.role, now),
    created_at: now,
  });
  const row = await repo.findInvitation(tx.db, id);
  if (!row) throw new AppError('internal', 'invitation vanished');
  return row;
}

/**
 * Invites a caregiver for `patientId` (the person themself, or their legal representative acting
 * in their profile). At most 3 caregivers per person (live or invited), 5 people per caregiver.
 * For a minor the help ends at majority at the latest.
 * @example await inviteCaregiver(ctx, actor, patientId, self, { email, scopes: ['agenda'], endsAt });
 */
export async function inviteCaregiver(
  ctx: Ctx,
  actor: PatientActor | RepresentativeActor,
  patientId: string,
  self: PatientActor,
  input: Invitee & { scopes: string[]; endsAt?: string | undefined },
): Promise<{ invitation: InvitationView; created: boolean }> {
  const now = ctx.clock.now();
  const scopes = parseCaregiverScopes(input.scopes);
  let endsAt = parseCaregiverEnd(input.endsAt, now);
  return guarded(ctx, async (tx) => {
    await requireAccess(tx, actor, {
      patientId,
      action: 'manage',
      entity: { type: 'AccessRule' },
      details: { invitation: 'caregiver', scopes },
    });
    const person = await repo.findPerson(tx.db, patientId);
    if (!person) throw new AppError('not_found', 'Not found');
    const majority = majorityAt(person.birth_date);
    if (majority > now && (endsAt === null || endsAt > majority)) endsAt = majority;
    const invitee = await resolveInvitee(tx, input);
    const field = input.matricule ? 'matricule' : 'email';
    if (invitee.id === patientId) throw invalid('A person cannot be their own caregiver', field);
    const reps = await repo.liveRepresentations(tx.db, patientId, now);
    if (reps.some((r) => r.person_id === invitee.id))
      throw new AppError('conflict', 'This person already acts for you (representative or caregiver)', field);
    await repo.lockPerson(tx.db, patientId);
    const pending = await livePending(tx, patientId, invitee.id, 'caregiver');
    if (pending) {
      const same =
        sameScopes(pending.scopes, scopes) &&
        (pending.ends_at === null
          ? endsAt === null
          : endsAt?.getTime() === new Date(pending.ends_at).getTime());
      if (!same)
        throw new AppError(
          'conflict',
          'An invitation to this caregiver is awaiting an answer: cancel it before sending another one',
        );
      return { invitation: await presentOne(tx, pending), created: false };
    }
    if ((await repo.countLiveOrPending(tx.db, patientId, 'caregiver', now)) >= MAX_CAREGIVERS_PER_PERSON)
      throw new AppError(
        'conflict',
        `A person has at most ${MAX_CAREGIVERS_PER_PERSON} caregivers (including invitations awaiting an answer): revoke one first`,
      );
    if ((await repo.countHelpedBy(tx.db, invitee.id, now)) >= MAX_PEOPLE_PER_CAREGIVER)
      throw new AppError(
        'conflict',
        `This caregiver already helps ${MAX_PEOPLE_PER_CAREGIVER} people, the most one caregiver may help`,
      );
    const row = await insert(tx, {
      patientId,
      role: 'caregiver',
      invitedBy: self.patientId,
      inviteeId: invitee.id,
      scopes,
      endsAt,
    });
    return { invitation: await presentOne(tx, row), created: true };
  });
}

/** Invitations the person received, and those concerning their record or that they sent. */
export async function listInvitations(
  ctx: Ctx,
  self: PatientActor,
): Promise<{ received: InvitationView[]; sent: InvitationView[] }> {
  const { received, sent } = await repo.listInvitationsOf(ctx.db, self.patientId);
  return { received: await present(ctx, received), sent: await present(ctx, sent) };
}

async function denyUnknown(ctx: Ctx, actor: Actor, type: string, id: string, reason: string): Promise<never> {
  await recordDenial(
    ctx,
    actor,
    {
      patientId: null,
      action: 'update',
      entity: { type, id: isUuid(id) ? id : JSON.stringify(id).slice(0, 64) },
    },
    reason,
  );
  throw new AppError('not_found', 'Not found');
}

/** The invitation addressed to `self`, or a recorded denial and 404 (another's looks unknown). */
async function receivedOrDeny(ctx: Ctx, self: PatientActor, id: string): Promise<InvitationRow> {
  const row = isUuid(id) ? await repo.findInvitation(ctx.db, id) : undefined;
  if (!row || row.invitee_id !== self.patientId)
    return denyUnknown(ctx, self, 'Invitation', id, 'no such invitation for this person');
  return row;
}

function invitationEvent(
  ctx: Ctx,
  self: PatientActor,
  row: InvitationRow,
  action: string,
  details: Record<string, unknown>,
) {
  return recordAuditEvent(ctx.db, {
    patientId: row.patient_id,
    recordedAt: ctx.clock.now(),
    actor: {
      kind: 'patient',
      id: self.patientId,
      display: self.display,
      organizationId: null,
      clientId: null,
    },
    action,
    entity: { type: 'Invitation', id: row.id },
    outcome: 'success',
    basis: null,
    reason: null,
    requestId: ctx.requestId ?? null,
    details: { role: row.role, ...details },
  });
}

function answered(status: InvitationStatus): AppError {
  return new AppError('conflict', `This invitation is no longer awaiting an answer (${status})`);
}

/**
 * The invitee accepts: the representation starts now (same end: majority, or the chosen date).
 * Idempotent: accepting again answers the accepted invitation.
 * @example const view = await acceptInvitation(ctx, self, invitationId);
 */
export async function acceptInvitation(ctx: Ctx, self: PatientActor, id: string): Promise<InvitationView> {
  const found = await receivedOrDeny(ctx, self, id);
  if (found.status === 'accepted') return presentOne(ctx, found);
  if (effectiveStatus(found, ctx.clock.now()) === 'expired' && found.status === 'pending')
    await repo.updateInvitation(ctx.rootDb, found.patient_id, found.id, { status: 'expired' });
  return guarded(ctx, async (tx) => {
    const now = tx.clock.now();
    // Both people's counts are checked under their locks, always taken in the same order.
    for (const key of [self.patientId, found.patient_id].sort()) await repo.lockPerson(tx.db, key);
    const row = await repo.findInvitation(tx.db, found.id);
    if (!row) throw new AppError('not_found', 'Not found');
    if (row.status === 'accepted') return presentOne(tx, row);
    const status = effectiveStatus(row, now);
    if (status !== 'pending') throw answered(status);
    if (row.ends_at !== null && new Date(row.ends_at) <= now)
      throw new AppError('conflict', 'The representation this invitation offered has already ended');
    if (
      row.role === 'caregiver' &&
      (await repo.countHelpedBy(tx.db, self.patientId, now)) >= MAX_PEOPLE_PER_CAREGIVER
    )
      throw new AppError(
        'conflict',
        `You already help ${MAX_PEOPLE_PER_CAREGIVER} people, the most one caregiver may help`,
      );
    const system: SystemActor = { kind: 'system', display: `Invitation acceptée par ${self.display}` };
    const ruleId = await addRepresentation(tx, system, row.patient_id, {
      personId: self.patientId,
      role: row.role,
      scopes: [...row.scopes],
      ...(row.ends_at ? { until: new Date(row.ends_at) } : {}),
      details: { invitationId: row.id, acceptedBy: self.patientId },
    });
    const updated = await repo.updateInvitation(tx.db, row.patient_id, row.id, {
      status: 'accepted',
      responded_at: now,
      rule_id: ruleId,
    });
    await invitationEvent(tx, self, row, 'update', { accepted: true });
    return presentOne(tx, updated);
  });
}

/** The invitee refuses. Idempotent. */
export async function refuseInvitation(ctx: Ctx, self: PatientActor, id: string): Promise<InvitationView> {
  const found = await receivedOrDeny(ctx, self, id);
  if (found.status === 'refused') return presentOne(ctx, found);
  return guarded(ctx, async (tx) => {
    const status = effectiveStatus(found, tx.clock.now());
    if (status !== 'pending') throw answered(status);
    const updated = await repo.updateInvitation(tx.db, found.patient_id, found.id, {
      status: 'refused',
      responded_at: tx.clock.now(),
    });
    await invitationEvent(tx, self, found, 'update', { refused: true });
    return presentOne(tx, updated);
  });
}

/**
 * Ends a caregiver's help, or cancels the invitation, from either side: the caregiver themself,
 * or the person (or their legal representative acting in their profile). Takes effect on the very
 * next request. Idempotent.
 * @example await revokeCaregiver(ctx, actor, patientId, self, invitationId);
 */
export async function revokeCaregiver(
  ctx: Ctx,
  actor: PatientActor | RepresentativeActor,
  patientId: string,
  self: PatientActor,
  id: string,
): Promise<void> {
  const row = isUuid(id) ? await repo.findInvitation(ctx.db, id) : undefined;
  if (!row || row.role !== 'caregiver' || (row.invitee_id !== self.patientId && row.patient_id !== patientId))
    return denyUnknown(ctx, actor, 'Invitation', id, 'no such caregiver for this record');
  const helper = row.invitee_id === self.patientId;
  if (row.status !== 'pending' && row.status !== 'accepted') return;
  await guarded(ctx, async (tx) => {
    const now = tx.clock.now();
    if (!helper) {
      await requireAccess(tx, actor, {
        patientId: row.patient_id,
        action: 'manage',
        entity: { type: 'AccessRule', id: row.rule_id ?? row.id },
        details: { invitationId: row.id, revoke: true },
      });
    }
    if (row.status === 'accepted' && row.rule_id) {
      const by: Actor = helper ? { kind: 'system', display: `Aide arrêtée par ${self.display}` } : actor;
      await endRepresentation(tx, by, row.patient_id, row.rule_id, { invitationId: row.id });
    }
    await repo.updateInvitation(tx.db, row.patient_id, row.id, {
      status: helper && row.status === 'pending' ? 'refused' : 'revoked',
      ...(helper && row.status === 'pending' ? { responded_at: now } : {}),
      revoked_at: now,
      revoked_by: helper ? 'helper' : 'person',
    });
    if (helper) await invitationEvent(tx, self, row, 'update', { revoked: true });
  });
}

/** An invitation either side may look at (for the attestation): the invitee, or the person's side. */
export async function findCaregiverRelation(
  ctx: Ctx,
  actor: PatientActor | RepresentativeActor,
  patientId: string,
  self: PatientActor,
  id: string,
): Promise<{ row: InvitationRow; helper: boolean }> {
  const row = isUuid(id) ? await repo.findInvitation(ctx.db, id) : undefined;
  if (!row || row.role !== 'caregiver' || (row.invitee_id !== self.patientId && row.patient_id !== patientId))
    return denyUnknown(ctx, actor, 'Invitation', id, 'no such caregiver for this record');
  return { row, helper: row.invitee_id === self.patientId };
}

export { present as presentInvitations };
