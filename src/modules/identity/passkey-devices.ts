import { notFound } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import type { PatientActor } from '../access/index.ts';
import { recordAuditEvent } from '../audit/index.ts';
import { passkeyName, patientAuditActor, toView, type PasskeyView } from './passkey.ts';
import * as repo from './passkey.repository.ts';

/** The person's passkeys as a list of devices: list, rename, revoke (one or all). */

/** The person's live passkeys, oldest first. */
export async function listPasskeys(ctx: Ctx, patientId: string): Promise<PasskeyView[]> {
  return (await repo.listLiveCredentials(ctx.db, patientId)).map(toView);
}

/**
 * A refused change to a passkey that is not the caller's: recorded as the gate records denials,
 * on the trail of the person whose passkey it names (never on the caller's, which would hand them
 * another person's id back); an id that names no passkey is recorded on the caller's, without it.
 */
async function deniedPasskey(
  ctx: Ctx,
  actor: PatientActor,
  action: 'update' | 'delete',
  id: string,
): Promise<never> {
  const owner = await repo.findCredentialOwner(ctx.rootDb, id);
  await recordAuditEvent(ctx.rootDb, {
    patientId: owner ?? actor.patientId,
    recordedAt: ctx.clock.now(),
    actor: patientAuditActor(actor.patientId, actor.display),
    action,
    entity: { type: 'Passkey', id: owner === undefined ? null : id },
    outcome: 'denied',
    basis: null,
    reason: 'no such passkey of the person',
    requestId: ctx.requestId ?? null,
    details: {},
  });
  throw notFound();
}

/** Renames one of the person's passkeys; 404 (audited) for anyone else's or a revoked one. */
export async function renamePasskey(
  ctx: Ctx,
  actor: PatientActor,
  id: string,
  name: string,
): Promise<PasskeyView> {
  const now = ctx.clock.now();
  const clean = passkeyName(name, now);
  const view = await ctx.rootDb.transaction().execute(async (tx) => {
    if (!(await repo.renameCredential(tx, actor.patientId, id, clean))) return undefined;
    await recordAuditEvent(tx, {
      patientId: actor.patientId,
      recordedAt: now,
      actor: patientAuditActor(actor.patientId, actor.display),
      action: 'update',
      entity: { type: 'Passkey', id },
      outcome: 'success',
      basis: 'owner',
      reason: null,
      requestId: ctx.requestId ?? null,
      details: { field: 'name' },
    });
    return (await repo.listLiveCredentials(tx, actor.patientId)).find((c) => c.id === id);
  });
  return view ? toView(view) : deniedPasskey(ctx, actor, 'update', id);
}

/** Revokes one of the person's passkeys (it can never sign in again); 404 (audited) otherwise. */
export async function revokePasskey(ctx: Ctx, actor: PatientActor, id: string): Promise<void> {
  const now = ctx.clock.now();
  const done = await ctx.rootDb.transaction().execute(async (tx) => {
    if (!(await repo.revokeCredential(tx, actor.patientId, id, now))) return false;
    await recordAuditEvent(tx, {
      patientId: actor.patientId,
      recordedAt: now,
      actor: patientAuditActor(actor.patientId, actor.display),
      action: 'delete',
      entity: { type: 'Passkey', id },
      outcome: 'success',
      basis: 'owner',
      reason: null,
      requestId: ctx.requestId ?? null,
      details: { revoked: true },
    });
    return true;
  });
  if (!done) await deniedPasskey(ctx, actor, 'delete', id);
}

/**
 * Revokes every passkey of the person, in `db` (the caller's transaction, e.g. "revoke all
 * devices" or the closure of a space); returns how many were live. The caller audits.
 */
export async function revokeAllPasskeys(
  ctx: Pick<Ctx, 'clock'>,
  db: Ctx['db'],
  patientId: string,
): Promise<number> {
  return repo.revokeAllCredentials(db, patientId, ctx.clock.now());
}
