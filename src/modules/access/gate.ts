import { AppError } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db/database.ts';
import { isUuid } from '../../platform/ids.ts';
import { recordAuditEvent, type NewAuditEvent } from '../audit/index.ts';
import { actorId, type Actor } from './actor.ts';
import { accessMatrix } from './matrix.ts';
import {
  decide,
  type AccessRequest,
  type Action,
  type Basis,
  type Decision,
  type ItemFacts,
  type RecordPolicy,
} from './policy.ts';
import { loadPolicyRows, toRule } from './rules.repository.ts';

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

/** The key under which a guarded value sits: module-private, so only reveal() can read it. */
const sealed: unique symbol = Symbol('guarded value');

/** Data loaded before a decision, opaque until a Grant for it reveals it. */
export interface Guarded<T> {
  readonly facts: ItemFacts;
  readonly itemId: string;
  /** Where the item sits in a listing (receipt time, id): for paging, not health data. */
  readonly position: { readonly createdAt: Date; readonly id: string } | undefined;
  readonly [sealed]: T;
}

export function guard<T>(
  itemId: string,
  facts: ItemFacts,
  value: T,
  position?: { createdAt: Date; id: string },
): Guarded<T> {
  return { facts, itemId, position, [sealed]: value };
}

/** Opens guarded data with a grant that covers it. */
export function reveal<T>(grant: Grant, guarded: Guarded<T>): T {
  if (
    grant.patientId !== guarded.facts.patientId ||
    (grant.itemId !== undefined && grant.itemId !== guarded.itemId)
  ) {
    throw new AppError('internal', 'Grant does not cover this item');
  }
  return guarded[sealed];
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

export interface GateRequest extends Omit<AccessRequest, 'entityType'> {
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
    professionCode: actor.kind === 'professional' ? actor.professionCode : null,
  };
}

/** The role the actor acted in, as the history shows it ("in what role"). */
function actorRole(actor: Actor): Record<string, unknown> {
  return actor.kind === 'professional'
    ? {
        professionCode: actor.professionCode,
        specialtyCode: actor.specialtyCode,
        emergencyRegulator: actor.emergencyRegulator === true,
      }
    : {};
}

/** Policies loaded in each open transaction, so one request reads a record's rules once. */
const policiesIn = new WeakMap<object, Map<string, RecordPolicy>>();

/**
 * What the record says about who may see it, read fresh for every request (a block or a revoked
 * consent takes effect on the very next request) and once per transaction.
 */
export async function loadRecordPolicy(ctx: Ctx, patientId: string): Promise<RecordPolicy> {
  const cache = policiesIn.get(ctx.db);
  const hit = cache?.get(patientId);
  if (hit) return hit;
  const { rules, settings, accountStatus } = await loadPolicyRows(ctx.db, patientId, ctx.clock.now());
  const policy: RecordPolicy = { patientId, settings, rules: rules.map(toRule), accountStatus };
  cache?.set(patientId, policy);
  return policy;
}

async function decideNow(
  ctx: Ctx,
  actor: Actor,
  req: Omit<AccessRequest, 'entityType'> & { entityType: string },
): Promise<Decision> {
  const policy = await loadRecordPolicy(ctx, req.patientId);
  return decide({ actor, request: req, policy, matrix: accessMatrix(), now: ctx.clock.now() });
}

/**
 * Decides, records, and returns a Grant. Must run inside guarded() so that ctx.db is the action's
 * transaction. A professional's successful read of the record publishes 'record.accessed' (the
 * person is told; DOMAIN §5).
 * @example const grant = await requireAccess(ctx, actor, { patientId, action: 'read', item, entity });
 */
export async function requireAccess(ctx: Ctx, actor: Actor, req: GateRequest): Promise<Grant> {
  const decision = await decideNow(ctx, actor, { ...req, entityType: req.entity.type });
  const base = {
    patientId: req.patientId,
    recordedAt: ctx.clock.now(),
    actor: auditActor(actor),
    action: req.action,
    entity: { type: req.entity.type, id: req.entity.id ?? null },
    requestId: ctx.requestId ?? null,
  };
  const details = { ...(req.details ?? {}), role: actorRole(actor), matrixVersion: accessMatrix().version };
  if (!decision.allow) {
    throw new AccessDenied(
      { ...base, details, outcome: 'denied', basis: null, reason: decision.reason },
      decision.visible,
    );
  }
  const event: NewAuditEvent = {
    ...base,
    details: decision.ruleId ? { ...details, ruleId: decision.ruleId } : details,
    outcome: 'success',
    basis: decision.basis,
    reason: null,
  };
  await recordAuditEvent(ctx.db, event);
  allowedIn.get(ctx.db)?.push(event);
  if (
    actor.kind === 'professional' &&
    (req.action === 'read' || req.action === 'search') &&
    decision.basis !== 'author'
  ) {
    const emergencyRule =
      decision.basis === 'emergency'
        ? (await loadRecordPolicy(ctx, req.patientId)).rules.find((r) => r.id === decision.ruleId)
        : undefined;
    await ctx.events?.publish(ctx.db, {
      type: 'record.accessed',
      patientId: req.patientId,
      data: {
        professionalId: actor.professionalId,
        display: actor.display,
        professionCode: actor.professionCode,
        emergency: decision.basis === 'emergency',
        mode: typeof emergencyRule?.details.mode === 'string' ? emergencyRule.details.mode : null,
      },
    });
  }
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
export async function filterVisible<T>(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  entityType: string,
  items: Guarded<T>[],
): Promise<Guarded<T>[]> {
  const policy = await loadRecordPolicy(ctx, patientId);
  const matrix = accessMatrix();
  const now = ctx.clock.now();
  return items.filter(
    (g) =>
      decide({
        actor,
        request: { patientId, action: 'read', entityType, item: g.facts },
        policy,
        matrix,
        now,
      }).allow,
  );
}

/** The decision without recording it: for shaping answers and previews, never for guarding data. */
export async function explainAccess(ctx: Ctx, actor: Actor, req: AccessRequest): Promise<Decision> {
  return decideNow(ctx, actor, req);
}

/**
 * Runs fn in a transaction. Denials raised inside are recorded (after the rollback, so the denial
 * survives it) and turned into 404 — or 403 with the reason where the actor may see the item.
 *
 * Nesting: when ctx.db is already the transaction of an enclosing guarded() call, fn joins it (runs
 * in it directly, no savepoint) instead of opening a second one, so several module calls made with
 * the outer tx are all or nothing. An error thrown by the inner fn is not handled here: it reaches
 * the outer guarded(), which rolls everything back, records denials and re-records the allowed
 * events as failures. A caller that catches an inner error and goes on must be sure no SQL
 * statement failed (on PostgreSQL a failed statement aborts the whole transaction): only catch
 * refusals raised before writing, such as validation errors.
 * @example await guarded(ctx, async (tx) => { await importA(tx, …); await importB(tx, …); });
 */
export async function guarded<T>(ctx: Ctx, fn: (tx: Ctx) => Promise<T>): Promise<T> {
  if (allowedIn.has(ctx.db)) return fn(ctx);
  const allowed: NewAuditEvent[] = [];
  let open: object | undefined;
  try {
    return await ctx.rootDb.transaction().execute((tx) => {
      open = tx;
      allowedIn.set(tx, allowed);
      policiesIn.set(tx, new Map());
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
  } finally {
    // A ctx kept past its transaction must not join it later.
    if (open) {
      allowedIn.delete(open);
      policiesIn.delete(open);
    }
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

/**
 * Finds which record an item id belongs to before the gate decides on that record. An id that is
 * not a UUID, or that belongs to nobody, is refused here: the denial is recorded (without a
 * record; the id as sent, printable) and the caller gets 404, like any item it may not see.
 * @example const patientId = await locateOrDeny(ctx, actor, { type: 'Immunization', id, action: 'read' }, (db, id) => repo.patientOf(db, id));
 */
export async function locateOrDeny(
  ctx: Ctx,
  actor: Actor,
  item: { type: string; id: string; action: Action },
  locate: (db: Queryable, id: string) => Promise<string | undefined>,
): Promise<string> {
  const patientId = isUuid(item.id) ? await locate(ctx.db, item.id) : undefined;
  if (patientId) return patientId;
  await recordDenial(
    ctx,
    actor,
    {
      patientId: null,
      action: item.action,
      entity: { type: item.type, id: isUuid(item.id) ? item.id : JSON.stringify(item.id).slice(1, -1) },
    },
    'no such item',
  );
  throw new AppError('not_found', 'Not found');
}

/**
 * Records a refused authentication — a missing, expired, forged or revoked bearer token or session,
 * a wrong password or client secret — before any actor or record is known. The attempt is named by
 * its route pattern, never by what the caller sent (ids, logins, tokens).
 * @example await recordAuthenticationFailure(ctx, { credential: 'bearer', method: 'GET', route: '/fhir/R4/Binary/:id', reason });
 */
export async function recordAuthenticationFailure(
  ctx: Ctx,
  attempt: {
    credential: 'bearer' | 'session' | 'password' | 'client';
    method: string;
    route: string;
    reason: string;
  },
): Promise<void> {
  await recordAuditEvent(ctx.rootDb, {
    patientId: null,
    recordedAt: ctx.clock.now(),
    actor: {
      kind: 'anonymous',
      id: null,
      display: 'Unauthenticated caller',
      organizationId: null,
      clientId: null,
    },
    action: 'authenticate',
    entity: {
      type: attempt.credential === 'bearer' || attempt.credential === 'client' ? 'AccessToken' : 'Session',
      id: null,
    },
    outcome: 'denied',
    basis: null,
    reason: attempt.reason,
    requestId: ctx.requestId ?? null,
    details: { credential: attempt.credential, method: attempt.method, route: attempt.route },
  });
}
