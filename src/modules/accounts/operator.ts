import { AppError, invalid, notFound } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { ACCOUNT_ENTITY, type OperatorActor } from '../access/index.ts';
import { recordAuditEvent } from '../audit/index.ts';
import { issueProvisionalCode } from '../identity/index.ts';
import { auditActorOf, conflict, inLifeEvent } from './lifecycle.ts';
import * as repo from './lifecycle.repository.ts';
import { queueNotice } from './notices.ts';
import { normalizeMatricule } from './opposition.ts';

/**
 * What an operator may see and do on one person's space (`carnet person …`): identity, state,
 * notices, sessions, representations — never health data; every command is audited with the
 * operator's id.
 */

/**
 * The person a matricule designates; `oid` chooses when the same matricule exists under several
 * OIDs (NIR and NIA, test OIDs).
 */
export async function findPersonByMatricule(
  ctx: Ctx,
  matricule: string,
  oid?: string,
): Promise<repo.PersonRow> {
  const m = normalizeMatricule(matricule);
  if (!/^[0-9AB]{13,15}$/.test(m)) throw invalid(`Not a matricule: ${matricule}`, 'matricule');
  const people = await repo.findPeopleByMatricule(ctx.rootDb, m, oid);
  const [first, second] = people;
  if (!first) throw notFound(`No person with matricule ${m}${oid ? ` under OID ${oid}` : ''}`);
  if (second)
    throw new AppError(
      'conflict',
      `Matricule ${m} exists under several OIDs (${people.map((p) => p.ins_oid).join(', ')}): add --oid`,
    );
  return first;
}

export interface PersonOverview {
  id: string;
  ins: { matricule: string; oid: string };
  given: string;
  family: string;
  birthDate: string;
  sex: string;
  email: string | null;
  origin: string;
  status: string;
  statusChangedAt: string | null;
  activatedAt: string | null;
  oppositionDeadline: string | null;
  opposition: { reference: string; at: string; channel: string } | null;
  suspension: { reason: string; since: string; deadline: string; by: string } | null;
  closedAt: string | null;
  eraseAfter: string | null;
  liveSessions: number;
  notices: Array<{ kind: string; channel: string; createdAt: string; deliveredAt: string | null }>;
  representedBy: Array<{ role: string | null; personId: string | null; endsAt: string | null }>;
  represents: Array<{ role: string | null; patientId: string; endsAt: string | null }>;
}

const iso = (d: Date | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

/** `person show`: audited as a read of the account by the operator. */
export async function showPerson(
  ctx: Ctx,
  operator: OperatorActor,
  patientId: string,
): Promise<PersonOverview> {
  return ctx.rootDb.transaction().execute(async (trx) => {
    const now = ctx.clock.now();
    const p = await repo.findPerson(trx, patientId);
    if (!p) throw notFound('No such person');
    const opposition = await repo.findOppositionOf(trx, patientId);
    const suspension = await repo.findLiveSuspension(trx, patientId);
    const notices = await repo.listNotices(trx, patientId);
    const liveSessions = await repo.countLiveSessions(trx, patientId, now);
    const reps = await repo.listRepresentations(trx, patientId, now);
    await recordAuditEvent(trx, {
      patientId,
      recordedAt: now,
      actor: auditActorOf(operator),
      action: 'read',
      entity: { type: ACCOUNT_ENTITY, id: patientId },
      outcome: 'success',
      basis: 'operator',
      reason: null,
      requestId: null,
      details: { operation: 'show' },
    });
    return {
      id: p.id,
      ins: { matricule: p.ins_matricule, oid: p.ins_oid },
      given: p.given,
      family: p.family,
      birthDate: p.birth_date,
      sex: p.sex,
      email: p.email,
      origin: p.origin,
      status: p.account_status,
      statusChangedAt: iso(p.status_changed_at),
      activatedAt: iso(p.activated_at),
      oppositionDeadline: iso(p.opposition_deadline),
      opposition: opposition
        ? {
            reference: opposition.reference,
            at: iso(opposition.opposed_at) ?? '',
            channel: opposition.channel,
          }
        : null,
      suspension: suspension
        ? {
            reason: suspension.reason,
            since: iso(suspension.suspended_at) ?? '',
            deadline: iso(suspension.deadline) ?? '',
            by: suspension.operator_id,
          }
        : null,
      closedAt: iso(p.closed_at),
      eraseAfter: iso(p.erase_after),
      liveSessions,
      notices: notices.map((n) => ({
        kind: n.kind,
        channel: n.channel,
        createdAt: iso(n.created_at) ?? '',
        deliveredAt: iso(n.delivered_at),
      })),
      representedBy: reps.representedBy.map((r) => ({
        role: r.role,
        personId: r.person_id,
        endsAt: iso(r.ends_at),
      })),
      represents: reps.represents.map((r) => ({
        role: r.role,
        patientId: r.patient_id,
        endsAt: iso(r.ends_at),
      })),
    };
  });
}

/**
 * `person reissue-code`: a new provisional code (the previous ones stop working), sent to the
 * person by a notice — the operator never sees it. It activates a pending or open space, and
 * re-opens a closed one.
 */
export async function reissueCode(
  ctx: Ctx,
  operator: OperatorActor,
  patientId: string,
): Promise<{ channel: 'email' | 'letter'; expiresAt: string }> {
  return inLifeEvent(ctx, operator, patientId, 'reissue-code', {}, async (tx, person) => {
    const status = person.account_status;
    if (status !== 'pending' && status !== 'open' && status !== 'closed')
      throw conflict(`No code for a space that is ${status}`);
    const issued = await issueProvisionalCode(tx, tx.db, patientId);
    // For a closed space the code re-opens it: the closure notice says so.
    const kind = status === 'closed' ? 'closure' : 'code_reissued';
    const notice = await queueNotice(tx, tx.db, { patientId, kind, code: issued.code });
    return { channel: notice.channel, expiresAt: issued.expiresAt.toISOString() };
  });
}
