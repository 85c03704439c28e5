import { timingSafeEqual } from 'node:crypto';
import { AppError, invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { deriveKey, keyedHash } from '../../platform/crypto.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { renderTextPdf } from '../../platform/pdf.ts';
import { ACCOUNT_ENTITY } from '../access/index.ts';
import { recordAuditEvent } from '../audit/index.ts';
import { checkProvisionalCode, generateCode, normalizeCode } from '../identity/index.ts';
import * as repo from './lifecycle.repository.ts';
import { queueNotice } from './notices.ts';
import { throttledByMatricule, type AttemptMeta } from './attempt-throttle.ts';

/**
 * Opposition to the creation of a space (DOMAIN §2), online and without an account: the
 * provisional code of the notice, the matricule and the birth date. Within the 6-week window the
 * space will never be created; a PDF proof with a reference can be downloaded (with the reference
 * and the same matricule and birth date: the reference alone gives nothing). Every failure gets
 * the same answer, so that nobody learns who has a space; only someone holding the right code is
 * told that the window has closed.
 */

export interface OppositionRequest {
  code: string;
  matricule: string;
  birthDate: string;
}

export interface Opposition {
  reference: string;
  opposedAt: string;
}

const NO_MATCH =
  'These details do not match a space awaiting its creation, or the code is wrong. Check the notice you received.';

function codeKey(ctx: Pick<Ctx, 'masterKey'>): Buffer {
  return deriveKey(ctx.masterKey, 'opposition-code');
}

function codeHashOf(ctx: Pick<Ctx, 'masterKey'>, patientId: string, code: string): Buffer {
  return keyedHash(codeKey(ctx), `${patientId}:${normalizeCode(code)}`);
}

function sameHash(a: Buffer | null, b: Buffer): boolean {
  return a !== null && a.length === b.length && timingSafeEqual(a, b);
}

export function normalizeMatricule(input: string): string {
  return input.trim().toUpperCase().replace(/\s/g, '');
}

function day(at: Date, language: 'fr' | 'en'): string {
  return new Intl.DateTimeFormat(language === 'en' ? 'en-GB' : 'fr-FR', {
    dateStyle: 'long',
    timeZone: 'Europe/Paris',
  }).format(at);
}

/** A failed attempt, on the trail without naming anyone (the caller proved nothing). */
export async function recordRefusal(ctx: Ctx, action: string, reason: string): Promise<void> {
  await recordAuditEvent(ctx.rootDb, {
    patientId: null,
    recordedAt: ctx.clock.now(),
    actor: { kind: 'anonymous', id: null, display: 'anonymous', organizationId: null, clientId: null },
    action,
    entity: { type: ACCOUNT_ENTITY, id: null },
    outcome: 'denied',
    basis: null,
    reason,
    requestId: ctx.requestId ?? null,
    details: {},
  }).catch((e: unknown) => ctx.log.error({ err: e }, 'could not record a refused attempt'));
}

/**
 * Records the person's opposition. Sent again with the same code: the same reference (the code
 * was used by the first one). After the window: refused with the date it closed. Throttled per
 * matricule and IP like activation (429 once locked; a mismatch counts, a success clears).
 * @example const { reference } = await opposeSpace(ctx, { code, matricule, birthDate: '1985-03-14' });
 */
export async function opposeSpace(
  ctx: Ctx,
  input: OppositionRequest,
  meta: AttemptMeta = {},
): Promise<Opposition> {
  const matricule = normalizeMatricule(input.matricule);
  return throttledByMatricule(ctx, matricule, meta, () => opposeOnce(ctx, matricule, input));
}

async function opposeOnce(ctx: Ctx, matricule: string, input: OppositionRequest): Promise<Opposition> {
  try {
    return await ctx.rootDb.transaction().execute(async (trx) => {
      const tx: Ctx = { ...ctx, db: trx };
      const now = ctx.clock.now();
      const candidates = await repo.findPeopleByMatricule(trx, matricule);
      const found = candidates.find((p) => p.birth_date === input.birthDate);
      if (!found) {
        codeHashOf(ctx, uuidv7(), input.code); // similar work for unknown people
        throw invalid(NO_MATCH);
      }
      const person = await repo.lockPerson(trx, found.id);
      if (!person) throw invalid(NO_MATCH);
      const given = codeHashOf(ctx, person.id, input.code);
      if (person.account_status === 'opposed') {
        const existing = await repo.findOppositionOf(trx, person.id);
        if (existing && sameHash(existing.code_hash, given))
          return { reference: existing.reference, opposedAt: existing.opposed_at.toISOString() };
        throw invalid(NO_MATCH);
      }
      if (!(await checkProvisionalCode(ctx, trx, person.id, input.code, { consume: false }))) {
        throw invalid(NO_MATCH);
      }
      const deadline = person.opposition_deadline;
      if (person.account_status !== 'pending' || !deadline || deadline <= now) {
        const when = deadline
          ? `The opposition window closed on ${day(deadline, 'en')} (${day(deadline, 'fr')})`
          : 'This space was created without an opposition window';
        throw new AppError(
          'conflict',
          `${when}: the space can no longer be opposed. You can close it instead, from the space or by asking the support service, and ask for its erasure.`,
        );
      }
      if (!(await checkProvisionalCode(ctx, trx, person.id, input.code, { consume: true })))
        throw invalid(NO_MATCH);
      const reference = `OPP-${generateCode()}`;
      await repo.insertOpposition(trx, {
        patient_id: person.id,
        id: uuidv7(now.getTime()),
        reference,
        opposed_at: now,
        channel: 'online',
        code_hash: given,
      });
      await repo.updatePerson(trx, person.id, {
        account_status: 'opposed',
        status_changed_at: now,
        updated_at: now,
      });
      await recordAuditEvent(trx, {
        patientId: person.id,
        recordedAt: now,
        actor: {
          kind: 'patient',
          id: person.id,
          display: `${person.given} ${person.family} (provisional code)`,
          organizationId: null,
          clientId: null,
        },
        action: 'manage',
        entity: { type: ACCOUNT_ENTITY, id: person.id },
        outcome: 'success',
        basis: 'owner',
        reason: null,
        requestId: ctx.requestId ?? null,
        details: { operation: 'oppose', reference },
      });
      await queueNotice(tx, trx, { patientId: person.id, kind: 'opposition' });
      return { reference, opposedAt: now.toISOString() };
    });
  } catch (err) {
    if (err instanceof AppError) await recordRefusal(ctx, 'oppose', err.message);
    throw err;
  }
}

/**
 * The PDF proof of an opposition: the reference with the matricule and birth date of the person
 * (the reference alone is not enough). Same answer (404) for any mismatch; throttled like opposeSpace.
 * @example const pdf = await oppositionProof(ctx, { reference, matricule, birthDate }, 'fr');
 */
export async function oppositionProof(
  ctx: Ctx,
  input: { reference: string; matricule: string; birthDate: string },
  language: 'fr' | 'en' = 'fr',
  meta: AttemptMeta = {},
): Promise<Buffer> {
  const matricule = normalizeMatricule(input.matricule);
  const row = await throttledByMatricule(ctx, matricule, meta, async () => {
    const found = await repo.findOppositionByReference(ctx.rootDb, input.reference.trim().toUpperCase());
    if (!found || found.ins_matricule !== matricule || found.birth_date !== input.birthDate) {
      await recordRefusal(ctx, 'read', 'opposition proof: no match');
      throw new AppError('not_found', 'No opposition matches these details');
    }
    return found;
  });
  // The proof names the person: its download is on their trail (the caller is not signed in).
  await recordAuditEvent(ctx.rootDb, {
    patientId: row.patient_id,
    recordedAt: ctx.clock.now(),
    actor: {
      kind: 'anonymous',
      id: null,
      display: 'holder of the opposition reference',
      organizationId: null,
      clientId: null,
    },
    action: 'read',
    entity: { type: ACCOUNT_ENTITY, id: row.patient_id },
    outcome: 'success',
    basis: null,
    reason: null,
    requestId: ctx.requestId ?? null,
    details: { operation: 'opposition-proof', reference: row.reference },
  });
  const at = new Date(row.opposed_at);
  const name = `${row.given} ${row.family}`;
  const fr = language === 'fr';
  return renderTextPdf({
    title: fr
      ? "Attestation d'opposition à la création de votre espace santé"
      : 'Proof of opposition to the creation of your health space',
    paragraphs: fr
      ? [
          `${name}, né(e) le ${row.birth_date}, s'est opposé(e) le ${day(at, 'fr')} à la création de son espace Carnet.`,
          '',
          "Ce que cela signifie : votre espace ne sera pas créé, vous ne recevrez plus de courrier à ce sujet et vous ne pourrez pas l'activer avec le code provisoire. Les documents que des professionnels de santé ont déjà partagés dans votre dossier restent accessibles à ceux qui y sont autorisés. Vous pourrez demander la création de votre espace plus tard auprès du service d'assistance.",
          '',
          "Conservez cette attestation. Sa référence permet au service d'assistance de retrouver votre demande.",
        ]
      : [
          `${name}, born on ${row.birth_date}, opposed the creation of their Carnet space on ${day(at, 'en')}.`,
          '',
          'What it means: your space will not be created, you will receive no more letters about it and the provisional code can no longer activate it. Documents health professionals already shared in your record remain available to those entitled to them. You may ask the support service to create your space later.',
          '',
          'Keep this proof. Its reference lets the support service find your request.',
        ],
    highlight: row.reference,
    footer: `Carnet — ${ctx.config.baseUrl}`,
    at: ctx.clock.now(),
    language,
  });
}
