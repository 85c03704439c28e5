import { AppError, invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { isUuid } from '../../platform/ids.ts';
import {
  addAccessRule,
  decide,
  accessMatrix,
  explainAccess,
  guarded,
  loadRecordPolicy,
  recordDenial,
  requireAccess,
  reveal,
  type Actor,
  type Basis,
  type ProfessionalActor,
  type RecordPolicy,
  type RuleView,
} from '../access/index.ts';
import { findProfessionalByRpps } from '../identity/index.ts';
import * as repo from './document.repository.ts';
import { toMeta, type DocumentMeta } from './document.ts';

/** The person's privacy controls that act on documents: masking, sharing, previewing, releasing. */

/** Hides (or shows again) a document from professionals other than its author, the GP and administrators. */
export async function setDocumentMasked(
  ctx: Ctx,
  actor: Actor,
  id: string,
  masked: boolean | null,
): Promise<DocumentMeta> {
  const found = isUuid(id) ? await repo.findGuardedById(ctx.rootDb, id) : undefined;
  if (!found) {
    await recordDenial(
      ctx,
      actor,
      { patientId: null, action: 'manage', entity: { type: 'DocumentReference', id } },
      'no such document',
    );
    throw new AppError('not_found', 'Not found');
  }
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId: found.facts.patientId,
      action: 'manage',
      item: found.facts,
      entity: { type: 'DocumentReference', id },
      details: { masked },
    });
    return toMeta(await repo.updateDocument(tx.db, grant, found, { masked }));
  });
}

/** Shares one document with one named professional until a date, even while it is masked. */
export async function shareDocument(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  input: { documentId: string; rpps: string; until: string },
): Promise<RuleView> {
  // The document is named by the path: one the actor may not manage (another person's, awaiting
  // release, unknown) answers 404 with a recorded denial, exactly like the other document routes.
  const found = isUuid(input.documentId)
    ? await repo.findGuardedById(ctx.rootDb, input.documentId)
    : undefined;
  const decision = found
    ? await explainAccess(ctx, actor, {
        patientId: found.facts.patientId,
        action: 'manage',
        entityType: 'DocumentReference',
        item: found.facts,
      })
    : undefined;
  if (!found || !decision?.allow || found.facts.patientId !== patientId) {
    await recordDenial(
      ctx,
      actor,
      {
        patientId: found?.facts.patientId ?? null,
        action: 'manage',
        entity: {
          type: 'DocumentReference',
          id: isUuid(input.documentId) ? input.documentId : JSON.stringify(input.documentId).slice(1, -1),
        },
        details: { share: true },
      },
      decision && !decision.allow ? decision.reason : 'no such document in this record',
    );
    throw new AppError('not_found', 'Not found');
  }
  return addAccessRule(
    ctx,
    actor,
    patientId,
    { kind: 'share', ...input },
    {
      documentBelongs: async (tx, documentId) => {
        if (!isUuid(documentId)) return false;
        const doc = await repo.findGuardedById(tx.db, documentId);
        return doc !== undefined && doc.facts.patientId === patientId;
      },
    },
  );
}

export interface PreviewItem {
  documentId: string;
  title: string;
  category: string;
  visible: boolean;
  basis: Basis | null;
  reason: string | null;
}

/**
 * "See my record as Dr X would": for a named professional (by RPPS) or a profession, which
 * documents would be visible and why — computed by the access decision itself, against the
 * record's real rules. For a profession, the viewer is taken as a member of the care team.
 */
export async function previewRecordAs(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  subject: { rpps: string } | { professionCode: string },
): Promise<{
  viewer: { display: string; professionCode: string; rpps: string | null };
  items: PreviewItem[];
}> {
  let viewer: ProfessionalActor;
  let hypothetical = false;
  if ('rpps' in subject) {
    const pro = /^\d{11}$/.test(subject.rpps) ? await findProfessionalByRpps(ctx, subject.rpps) : undefined;
    if (!pro) throw invalid('No professional with this RPPS number', 'rpps');
    viewer = {
      kind: 'professional',
      professionalId: pro.id,
      rpps: pro.rpps,
      professionCode: pro.professionCode,
      specialtyCode: pro.specialtyCode,
      display: `${pro.given} ${pro.family}`,
      organizationId: 'preview',
      clientId: 'preview',
    };
  } else {
    if (!accessMatrix().professions.some((p) => p.code === subject.professionCode)) {
      throw invalid('Unknown profession code', 'profession');
    }
    hypothetical = true;
    viewer = {
      kind: 'professional',
      professionalId: 'preview-care-team-member',
      rpps: 'preview',
      professionCode: subject.professionCode,
      specialtyCode: null,
      display: `profession ${subject.professionCode}`,
      organizationId: 'preview',
      clientId: 'preview',
    };
  }
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'search',
      entity: { type: 'DocumentReference' },
      details: {
        preview: 'rpps' in subject ? { rpps: subject.rpps } : { professionCode: subject.professionCode },
      },
    });
    const real = await loadRecordPolicy(tx, patientId);
    const now = ctx.clock.now();
    const policy: RecordPolicy = hypothetical
      ? {
          ...real,
          rules: [
            ...real.rules,
            {
              id: 'preview',
              kind: 'care_team',
              professionalId: viewer.professionalId,
              personId: null,
              documentId: null,
              role: null,
              scopes: [],
              channel: null,
              reason: null,
              startsAt: new Date(0),
              endsAt: null,
              revokedAt: null,
              details: {},
            },
          ],
        }
      : real;
    // Every version, as an ITI-67 search without a status filter returns them to the professional.
    const rows = await repo.listGuarded(tx.db, patientId, { status: ['current', 'superseded'] }, 1000);
    const matrix = accessMatrix();
    const items = rows.map((g) => {
      const row = reveal(grant, g);
      const d = decide({
        actor: viewer,
        request: { patientId, action: 'read', entityType: 'DocumentReference', item: g.facts },
        policy,
        matrix,
        now,
      });
      return {
        documentId: row.id,
        title: row.title,
        category: row.category,
        visible: d.allow,
        basis: d.allow ? d.basis : null,
        reason: d.allow ? null : d.reason,
      };
    });
    return {
      viewer: {
        display: viewer.display,
        professionCode: viewer.professionCode,
        rpps: hypothetical ? null : viewer.rpps,
      },
      items,
    };
  });
}

/**
 * Delayed release (DOMAIN §3): two weeks after receipt the person is told a document awaits and is
 * invited to see a professional; at one month it becomes visible on its own (the decision reads
 * release_at) and the person is told. Run by a scheduled job; idempotent.
 */
export async function processDelayedReleases(
  ctx: Ctx,
  options: { noticeAfterDays?: number } = {},
): Promise<{ noticed: number; released: number }> {
  const now = ctx.clock.now();
  const noticeBefore = new Date(now.getTime() - (options.noticeAfterDays ?? 14) * 86_400_000);
  const system: Actor = { kind: 'system', display: 'Carnet (publication différée)' };
  let noticed = 0;
  let released = 0;
  for (const g of await repo.listPendingReleases(ctx.rootDb, now, noticeBefore, 500)) {
    const due = g.facts.releaseAt !== null && g.facts.releaseAt <= now;
    await guarded(ctx, async (tx) => {
      const grant = await requireAccess(tx, system, {
        patientId: g.facts.patientId,
        action: 'update',
        item: g.facts,
        entity: { type: 'DocumentReference', id: g.itemId },
        details: { release: due ? 'released' : 'notice' },
      });
      if (due) {
        const row = await repo.updateDocument(tx.db, grant, g, { released_at: now });
        await ctx.events?.publish(tx.db, {
          type: 'document.added',
          patientId: g.facts.patientId,
          data: { documentId: g.itemId, authorDisplay: row.author_display },
        });
        released++;
      } else {
        await repo.updateDocument(tx.db, grant, g, { release_notice_at: now });
        await ctx.events?.publish(tx.db, {
          type: 'document.release_pending',
          patientId: g.facts.patientId,
          data: { documentId: g.itemId },
        });
        noticed++;
      }
    });
  }
  return { noticed, released };
}
