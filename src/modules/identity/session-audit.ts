import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db/database.ts';
import { recordAuditEvent } from '../audit/index.ts';

/**
 * Sign-ins and sign-outs on the person's own trail (DOMAIN §5: the person sees them in the "my
 * activities" tab). Written in the transaction that opens or closes the session. The details name
 * how the person signed in and nothing else: where from (IP, browser) stays on the session row,
 * shown on the security page while the session lives, not in the ten-year trail.
 */

/** How a session was signed in: what `sessions.auth_method` and the event's `details.method` hold. */
export type SignInMethod = 'password' | 'password+totp' | 'password+email' | 'passkey';

function personActor(patientId: string, display: string) {
  return { kind: 'patient' as const, id: patientId, display, organizationId: null, clientId: null };
}

/**
 * A completed sign-in: action 'authenticate', outcome 'success', on the new session.
 * @example await recordSignIn(ctx, tx, { patientId, display, sessionId: s.id, method: 'password+totp' });
 */
export async function recordSignIn(
  ctx: Ctx,
  db: Queryable,
  s: {
    patientId: string;
    display: string;
    sessionId: string;
    method: SignInMethod;
    details?: Record<string, unknown>;
  },
): Promise<void> {
  await recordAuditEvent(db, {
    patientId: s.patientId,
    recordedAt: ctx.clock.now(),
    actor: personActor(s.patientId, s.display),
    action: 'authenticate',
    entity: { type: 'Session', id: s.sessionId },
    outcome: 'success',
    basis: 'owner',
    reason: null,
    requestId: ctx.requestId ?? null,
    details: { method: s.method, ...s.details },
  });
}

/**
 * A sign-out of a signed-in session: action 'sign-out', outcome 'success', on that session.
 * @example await recordSignOut(ctx, tx, { patientId, display, sessionId });
 */
export async function recordSignOut(
  ctx: Ctx,
  db: Queryable,
  s: { patientId: string; display: string; sessionId: string },
): Promise<void> {
  await recordAuditEvent(db, {
    patientId: s.patientId,
    recordedAt: ctx.clock.now(),
    actor: personActor(s.patientId, s.display),
    action: 'sign-out',
    entity: { type: 'Session', id: s.sessionId },
    outcome: 'success',
    basis: 'owner',
    reason: null,
    requestId: ctx.requestId ?? null,
    details: {},
  });
}
