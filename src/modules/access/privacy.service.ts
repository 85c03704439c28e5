import { AppError, invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { isUuid, uuidv7 } from '../../platform/ids.ts';
import {
  findProfessionalByRpps,
  listProfessionals,
  type Patient,
  type Professional,
} from '../identity/index.ts';
import { actorId, type Actor, type ProfessionalActor } from './actor.ts';
import { guarded, loadRecordPolicy, recordDenial, requireAccess } from './gate.ts';
import type { AccessRule, PrivacySettings, RoleName, RuleKind } from './policy.ts';
import * as repo from './rules.repository.ts';

/**
 * What the person controls (DOMAIN §4): settings (mask by default, the three emergency switches)
 * and rules (care team, consents, roles, blocks, per-document shares). Every change goes through
 * the gate as a 'manage' action and is audited; it takes effect on the very next request.
 */

export interface RuleView {
  id: string;
  kind: RuleKind;
  role: RoleName | null;
  professional: { id: string; rpps: string; display: string; professionCode: string } | null;
  documentId: string | null;
  channel: string | null;
  reason: string | null;
  scopes: string[];
  startsAt: string;
  endsAt: string | null;
}

function view(rule: AccessRule, pros: Map<string, Professional>): RuleView {
  const p = rule.professionalId ? pros.get(rule.professionalId) : undefined;
  return {
    id: rule.id,
    kind: rule.kind,
    role: rule.role,
    professional: p
      ? { id: p.id, rpps: p.rpps, display: `${p.given} ${p.family}`, professionCode: p.professionCode }
      : null,
    documentId: rule.documentId,
    channel: rule.channel,
    reason: rule.reason,
    scopes: [...rule.scopes],
    startsAt: rule.startsAt.toISOString(),
    endsAt: rule.endsAt?.toISOString() ?? null,
  };
}

/** The record's settings and live rules, as the person sees them. */
export async function getPrivacy(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
): Promise<{ settings: PrivacySettings; rules: RuleView[] }> {
  return guarded(ctx, async (tx) => {
    await requireAccess(tx, actor, { patientId, action: 'read', entity: { type: 'AccessRule' } });
    const policy = await loadRecordPolicy(tx, patientId);
    const ids = [...new Set(policy.rules.flatMap((r) => (r.professionalId ? [r.professionalId] : [])))];
    const pros = new Map((await listProfessionals(tx, ids)).map((p) => [p.id, p]));
    return { settings: policy.settings, rules: policy.rules.map((r) => view(r, pros)) };
  });
}

export async function updatePrivacySettings(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  changes: Partial<PrivacySettings>,
): Promise<PrivacySettings> {
  return guarded(ctx, async (tx) => {
    await requireAccess(tx, actor, {
      patientId,
      action: 'manage',
      entity: { type: 'PrivacySettings' },
      details: { changes },
    });
    const current = (await loadRecordPolicy(tx, patientId)).settings;
    const next = { ...current, ...changes };
    await repo.saveSettings(tx.db, patientId, next, ctx.clock.now());
    return next;
  });
}

export type NewRule =
  | { kind: 'care_team'; rpps: string }
  | { kind: 'consent'; rpps: string; channel: 'in_person' | 'phone' | 'online' | 'card'; until?: string }
  | {
      kind: 'role';
      rpps: string;
      role: 'gp' | 'administrator' | 'referent_midwife' | 'correspondent_pharmacist';
    }
  | { kind: 'block'; rpps: string }
  | { kind: 'share'; rpps: string; documentId: string; until: string };

/** Roles a record holds at most once: naming a new one ends the previous one. */
const UNIQUE_ROLES = new Set(['gp', 'referent_midwife', 'correspondent_pharmacist']);
const MAX_SHARE_DAYS = 366;

async function professionalOrFail(ctx: Ctx, rpps: string): Promise<Professional> {
  const digits = rpps.replace(/^8(?=\d{11}$)/, '');
  const pro = /^\d{11}$/.test(digits) ? await findProfessionalByRpps(ctx, digits) : undefined;
  if (!pro) throw invalid('No professional with this RPPS number', 'rpps');
  return pro;
}

/**
 * Adds a rule the person chose. Shares need an end date within a year; a document to share must
 * belong to the record (checked by the caller's documents module — see documents' shareDocument).
 */
export async function addAccessRule(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  input: NewRule,
  options: { documentBelongs?: (tx: Ctx, documentId: string) => Promise<boolean> } = {},
): Promise<RuleView> {
  const now = ctx.clock.now();
  let endsAt: Date | null = null;
  if ('until' in input && input.until !== undefined) {
    endsAt = new Date(input.until);
    if (Number.isNaN(endsAt.getTime())) throw invalid('until must be a date', 'until');
    if (endsAt <= now) throw invalid('until must be in the future', 'until');
    if (input.kind === 'share' && endsAt.getTime() - now.getTime() > MAX_SHARE_DAYS * 86_400_000) {
      throw invalid('A share lasts at most one year', 'until');
    }
  }
  return guarded(ctx, async (tx) => {
    await requireAccess(tx, actor, {
      patientId,
      action: 'manage',
      entity: { type: 'AccessRule' },
      details: { kind: input.kind, ...('role' in input ? { role: input.role } : {}) },
    });
    const pro = await professionalOrFail(tx, input.rpps);
    if (input.kind === 'share') {
      const belongs = options.documentBelongs ? await options.documentBelongs(tx, input.documentId) : false;
      if (!belongs) throw invalid('No such document in this record', 'documentId');
    }
    const live = await repo.loadLiveRules(tx.db, patientId, now);
    // A unique role (GP, referent midwife, correspondent pharmacist) passes to the one named now.
    const replaced =
      input.kind === 'role' && UNIQUE_ROLES.has(input.role)
        ? live.filter((r) => r.kind === 'role' && r.role === input.role)
        : [];
    for (const old of replaced) await repo.revokeRule(tx.db, patientId, old.id, now);
    const duplicate = live.find(
      (r) =>
        !replaced.includes(r) &&
        r.kind === input.kind &&
        r.professional_id === pro.id &&
        (input.kind !== 'role' || r.role === input.role) &&
        (input.kind !== 'share' || r.document_id === input.documentId),
    );
    if (duplicate) throw new AppError('conflict', 'This rule already exists');
    const id = uuidv7(now.getTime());
    await repo.insertRule(tx.db, {
      patient_id: patientId,
      id,
      kind: input.kind,
      professional_id: pro.id,
      person_id: null,
      document_id: input.kind === 'share' ? input.documentId : null,
      role: input.kind === 'role' ? input.role : null,
      channel: input.kind === 'consent' ? input.channel : null,
      reason: null,
      scopes: [],
      starts_at: now,
      ends_at: endsAt,
      revoked_at: null,
      created_at: now,
      created_by: `${actor.kind}:${actorId(actor) ?? ''}`,
      details: '{}',
    });
    const row = await repo.findRule(tx.db, patientId, id);
    if (!row) throw new AppError('internal', 'rule vanished');
    return view(repo.toRule(row), new Map([[pro.id, pro]]));
  });
}

/** Ends a rule (revokes a consent, lifts a block, stops a share…) from the next request on. */
export async function revokeAccessRule(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  ruleId: string,
): Promise<void> {
  // A rule that is not live on this record (another person's, ended, or unknown) is a denial, like
  // any id the actor may not act on: recorded without naming a record, answered 404.
  const found = isUuid(ruleId) ? await repo.findRule(ctx.db, patientId, ruleId) : undefined;
  if (!found || found.revoked_at) {
    await recordDenial(
      ctx,
      actor,
      {
        patientId: null,
        action: 'manage',
        entity: { type: 'AccessRule', id: isUuid(ruleId) ? ruleId : JSON.stringify(ruleId).slice(1, -1) },
        details: { revoke: true },
      },
      'no such rule on this record',
    );
    throw new AppError('not_found', 'Not found');
  }
  await guarded(ctx, async (tx) => {
    await requireAccess(tx, actor, {
      patientId,
      action: 'manage',
      entity: { type: 'AccessRule', id: ruleId },
      details: { revoke: true },
    });
    const row = await repo.findRule(tx.db, patientId, ruleId);
    if (!row || row.revoked_at) throw new AppError('not_found', 'Not found');
    if (row.kind === 'representation' || row.kind === 'app') {
      throw new AppError('forbidden', 'Representations and app pairings are ended from their own pages');
    }
    await repo.revokeRule(tx.db, patientId, ruleId, ctx.clock.now());
  });
}

export interface EmergencyAccessRequest {
  patient: Patient;
  mode: 'samu' | 'break_glass';
  reason: string;
}

/**
 * Opens a time-limited emergency access for a professional (DOMAIN §4.6). The reason is
 * mandatory; the access ends after `hours` (default 24); the person and their GP are told.
 */
export async function openEmergencyAccess(
  ctx: Ctx,
  actor: ProfessionalActor,
  req: EmergencyAccessRequest,
  hours: number,
): Promise<{ id: string; endsAt: Date }> {
  const reason = req.reason.trim();
  if (reason.length < 10 || reason.length > 1000) {
    throw invalid('A reason of 10 to 1000 characters is required for an emergency access', 'reason');
  }
  const now = ctx.clock.now();
  const endsAt = new Date(now.getTime() + hours * 3600_000);
  const id = uuidv7(now.getTime());
  await guarded(ctx, async (tx) => {
    await requireAccess(tx, actor, {
      patientId: req.patient.id,
      action: 'create',
      emergencyMode: req.mode,
      entity: { type: 'EmergencyAccess', id },
      details: { mode: req.mode, reason, endsAt: endsAt.toISOString() },
    });
    await repo.insertRule(tx.db, {
      patient_id: req.patient.id,
      id,
      kind: 'emergency',
      professional_id: actor.professionalId,
      person_id: null,
      document_id: null,
      role: null,
      channel: null,
      reason,
      scopes: [],
      starts_at: now,
      ends_at: endsAt,
      revoked_at: null,
      created_at: now,
      created_by: `professional:${actor.rpps}`,
      details: JSON.stringify({ mode: req.mode }),
    });
    const gp = (await loadRecordPolicy(tx, req.patient.id)).rules.find(
      (r) => r.kind === 'role' && r.role === 'gp',
    );
    await ctx.events?.publish(tx.db, {
      type: 'emergency.opened',
      patientId: req.patient.id,
      data: {
        professionalId: actor.professionalId,
        display: actor.display,
        mode: req.mode,
        endsAt: endsAt.toISOString(),
        gpProfessionalId: gp?.professionalId ?? null,
      },
    });
  });
  return { id, endsAt };
}

/**
 * Records that a person acts for another: a legal representative (parent, guardian) or a caregiver
 * with chosen scopes and an end date. Lifecycle flows (invitations, majority) call this.
 */
export async function grantRepresentation(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  input: RepresentationInput,
): Promise<string> {
  return guarded(ctx, (tx) => addRepresentation(tx, actor, patientId, input));
}

export interface RepresentationInput {
  personId: string;
  role: 'legal_representative' | 'guardian' | 'caregiver';
  scopes?: string[];
  until?: Date;
  /** Recorded with the audit event (e.g. the invitation it comes from). */
  details?: Record<string, unknown>;
}

/**
 * grantRepresentation inside an open guarded() transaction (`tx`), so a caller can write its own
 * bookkeeping (an accepted invitation) atomically with the rule.
 * @example await guarded(ctx, (tx) => addRepresentation(tx, systemActor, childId, { personId, role: 'legal_representative' }));
 */
export async function addRepresentation(
  tx: Ctx,
  actor: Actor,
  patientId: string,
  input: RepresentationInput,
): Promise<string> {
  const now = tx.clock.now();
  const id = uuidv7(now.getTime());
  await requireAccess(tx, actor, {
    patientId,
    action: 'manage',
    entity: { type: 'AccessRule', id },
    details: { ...input.details, kind: 'representation', role: input.role },
  });
  await repo.insertRule(tx.db, {
    patient_id: patientId,
    id,
    kind: 'representation',
    professional_id: null,
    person_id: input.personId,
    document_id: null,
    role: input.role,
    channel: null,
    reason: null,
    scopes: input.scopes ?? [],
    starts_at: now,
    ends_at: input.until ?? null,
    revoked_at: null,
    created_at: now,
    created_by: `${actor.kind}:${actorId(actor) ?? ''}`,
    details: '{}',
  });
  return id;
}

/**
 * Ends a representation (a caregiver's help revoked by either side, a representative's rights at
 * majority) from the next request on. Runs inside an open guarded() transaction; 404 when the
 * rule is not a live representation of this record.
 * @example await guarded(ctx, (tx) => endRepresentation(tx, actor, patientId, ruleId));
 */
export async function endRepresentation(
  tx: Ctx,
  actor: Actor,
  patientId: string,
  ruleId: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  await requireAccess(tx, actor, {
    patientId,
    action: 'manage',
    entity: { type: 'AccessRule', id: ruleId },
    details: { ...details, kind: 'representation', revoke: true },
  });
  const row = await repo.findRule(tx.db, patientId, ruleId);
  if (!row || row.kind !== 'representation') throw new AppError('not_found', 'Not found');
  await repo.revokeRule(tx.db, patientId, ruleId, tx.clock.now());
}
