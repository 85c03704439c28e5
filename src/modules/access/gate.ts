import { AppError } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { recordAuditEvent, type NewAuditEvent } from '../audit/index.ts';
import { actorId, type Actor } from './actor.ts';
import { decide, type AccessRequest, type Action, type Basis, type ItemFacts } from './policy.ts';

/**
 * The one door. Every read or write of a person's data runs inside `guarded()`, asks
 * `requireAccess()` for a Grant, and hands that Grant to the repository functions that touch health
 * data (they do not compile without one). The decision and its audit event are written in the
 * transaction of the action itself, so an action never happens unaudited; a denial is recorded
 * after the rollback, then answered as 404 (or 403 when the actor may know the item exists).
 */

declare const grantBrand: unique symbol;

export interface Grant {
  readonly [grantBrand]: true;
  readonly patientId: string;
  readonly action: Action;
  readonly basis: Basis;
  readonly actor: Actor;
  /** The single item this grant covers, or undefined for record-level actions (create, search). */
  readonly itemId: string | undefined;
}

/** Data loaded before a decision, opaque until a Grant for it reveals it. */
export interface Guarded<T> {
  readonly facts: ItemFacts;
  readonly itemId: string;
  /** @internal use reveal() */
  readonly value: T;
}

export function guard<T>(itemId: string, facts: ItemFacts, value: T): Guarded<T> {
  return { facts, itemId, value };
}

/** Opens guarded data with a grant that covers it. */
export function reveal<T>(grant: Grant, guarded: Guarded<T>): T {
  if (
    grant.patientId !== guarded.facts.patientId ||
    (grant.itemId !== undefined && grant.itemId !== guarded.itemId)
  ) {
    throw new AppError('internal', 'Grant does not cover this item');
  }
  return guarded.value;
}

class AccessDenied extends Error {
  readonly event: NewAuditEvent;
  readonly visible: boolean;
  constructor(event: NewAuditEvent, visible: boolean) {
    super(event.reason ?? 'denied');
    this.event = event;
    this.visible = visible;
  }
}

export interface GateRequest extends AccessRequest {
  /** What the audit trail names: resource type and id (or undefined for a search or a create before the id exists). */
  readonly entity: { type: string; id?: string };
  readonly details?: Record<string, unknown>;
}

function auditActor(actor: Actor): NewAuditEvent['actor'] {
  return {
    kind: actor.kind,
    id: actorId(actor),
    display: actor.display,
    organizationId: actor.kind === 'professional' ? actor.organizationId : null,
    clientId: actor.kind === 'professional' ? actor.clientId : null,
  };
}

/**
 * Decides, records, and returns a Grant. Must run inside guarded() so that ctx.db is the action's
 * transaction.
 * @example const grant = await requireAccess(ctx, actor, { patientId, action: 'read', item, entity });
 */
export async function requireAccess(ctx: Ctx, actor: Actor, req: GateRequest): Promise<Grant> {
  const decision = decide(actor, req);
  const base = {
    patientId: req.patientId,
    recordedAt: ctx.clock.now(),
    actor: auditActor(actor),
    action: req.action,
    entity: { type: req.entity.type, id: req.entity.id ?? null },
    requestId: ctx.requestId ?? null,
    details: req.details ?? {},
  };
  if (!decision.allow) {
    throw new AccessDenied(
      { ...base, outcome: 'denied', basis: null, reason: decision.reason },
      decision.visible,
    );
  }
  const event: NewAuditEvent = { ...base, outcome: 'success', basis: decision.basis, reason: null };
  await recordAuditEvent(ctx.db, event);
  allowedIn.get(ctx.db)?.push(event);
  return {
    patientId: req.patientId,
    action: req.action,
    basis: decision.basis,
    actor,
    itemId: req.item ? req.entity.id : undefined,
  } as Grant;
}

/**
 * Items of a search the actor may see, decided one by one by the same function. The caller records
 * the search itself with requireAccess (one event naming the returned ids).
 */
export function filterVisible<T>(
  actor: Actor,
  patientId: string,
  action: Action,
  items: Guarded<T>[],
): Guarded<T>[] {
  return items.filter((g) => decide(actor, { patientId, action, item: g.facts }).allow);
}

/** True when the decision function would allow the action; for shaping answers, never for guarding data. */
export function wouldAllow(actor: Actor, req: AccessRequest): boolean {
  return decide(actor, req).allow;
}

/**
 * Runs fn in a transaction. Denials raised inside are recorded (after the rollback, so the denial
 * survives it) and turned into 404 — or 403 with the reason where the actor may see the item.
 */
export async function guarded<T>(ctx: Ctx, fn: (tx: Ctx) => Promise<T>): Promise<T> {
  const allowed: NewAuditEvent[] = [];
  try {
    return await ctx.rootDb.transaction().execute((tx) => {
      allowedIn.set(tx, allowed);
      return fn({ ...ctx, db: tx });
    });
  } catch (err) {
    if (err instanceof AccessDenied) {
      await recordAuditEvent(ctx.rootDb, err.event);
      throw err.visible ? new AppError('forbidden', err.message) : new AppError('not_found', 'Not found');
    }
    // The action was allowed but failed and rolled back with its audit events: record the
    // attempt as a failure, so the history still shows it (e.g. a download that failed its
    // integrity check). Best effort: the original error is what the caller must see.
    const code = err instanceof AppError ? err.code : 'internal';
    for (const event of allowed) {
      await recordAuditEvent(ctx.rootDb, { ...event, outcome: 'failure', reason: code }).catch((e: unknown) =>
        ctx.log.error({ err: e }, 'could not record a failed action'),
      );
    }
    throw err;
  }
}

/** Success events written in each open guarded() transaction, to re-record as failures on rollback. */
const allowedIn = new WeakMap<object, NewAuditEvent[]>();

/** Records a denial that happened before any item could be named (e.g. an unknown patient). */
export async function recordDenial(
  ctx: Ctx,
  actor: Actor,
  req: Omit<GateRequest, 'patientId'> & { patientId: string | null },
  reason: string,
): Promise<void> {
  await recordAuditEvent(ctx.rootDb, {
    patientId: req.patientId,
    recordedAt: ctx.clock.now(),
    actor: auditActor(actor),
    action: req.action,
    entity: { type: req.entity.type, id: req.entity.id ?? null },
    outcome: 'denied',
    basis: null,
    reason,
    requestId: ctx.requestId ?? null,
    details: req.details ?? {},
  });
}
