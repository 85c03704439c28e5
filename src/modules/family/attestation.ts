import { AppError } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { renderTextPdf } from '../../platform/pdf.ts';
import { guarded, requireAccess, type PatientActor, type RepresentativeActor } from '../access/index.ts';
import { recordAuditEvent } from '../audit/index.ts';
import { scopeLabel } from './family.ts';
import * as repo from './family.repository.ts';
import { findCaregiverRelation } from './invitations.service.ts';

/**
 * The caregiver's access attestation (DOMAIN §2), for either side: who helps whom, with which
 * scopes, from when until when, and a reference. Downloading it is on the person's audit trail.
 */

function day(d: Date | string, language: 'fr' | 'en'): string {
  return new Date(d).toLocaleDateString(language === 'fr' ? 'fr-FR' : 'en-GB', {
    timeZone: 'Europe/Paris',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  });
}

/** @example const pdf = await caregiverAttestation(ctx, actor, patientId, self, id, 'fr'); */
export async function caregiverAttestation(
  ctx: Ctx,
  actor: PatientActor | RepresentativeActor,
  patientId: string,
  self: PatientActor,
  id: string,
  language: 'fr' | 'en',
): Promise<{ pdf: Buffer; reference: string }> {
  const { row, helper } = await findCaregiverRelation(ctx, actor, patientId, self, id);
  return guarded(ctx, async (tx) => {
    if (helper) {
      await recordAuditEvent(tx.db, {
        patientId: row.patient_id,
        recordedAt: tx.clock.now(),
        actor: {
          kind: 'patient',
          id: self.patientId,
          display: self.display,
          organizationId: null,
          clientId: null,
        },
        action: 'read',
        entity: { type: 'CaregiverAttestation', id: row.id },
        outcome: 'success',
        basis: 'caregiver',
        reason: null,
        requestId: tx.requestId ?? null,
        details: {},
      });
    } else {
      await requireAccess(tx, actor, {
        patientId: row.patient_id,
        action: 'read',
        entity: { type: 'AccessRule', id: row.rule_id ?? row.id },
        details: { attestation: row.id },
      });
    }
    if (row.responded_at === null || row.rule_id === null)
      throw new AppError('conflict', 'An attestation exists once the caregiver has accepted');
    const [person, caregiver] = await Promise.all([
      repo.findPerson(tx.db, row.patient_id),
      repo.findPerson(tx.db, row.invitee_id),
    ]);
    if (!person || !caregiver) throw new AppError('not_found', 'Not found');
    const fr = language === 'fr';
    const who = `${caregiver.given} ${caregiver.family}`;
    const whom = `${person.given} ${person.family}`;
    const scopes = row.scopes.map((s) => scopeLabel(s, language)).join(', ');
    const until = row.revoked_at ?? row.ends_at;
    const reference = `AID-${row.id.replace(/-/g, '').slice(-12).toUpperCase()}`;
    const paragraphs = fr
      ? [
          `${who} est aidant(e) de ${whom}, né(e) le ${day(`${person.birth_date}T12:00:00Z`, 'fr')}, dans son espace santé Carnet.`,
          `Domaines confiés : ${scopes}.`,
          `Depuis le ${day(row.responded_at, 'fr')}${until ? ` et jusqu'au ${day(until, 'fr')}` : ', sans date de fin'}.`,
          ...(row.revoked_at
            ? [
                `Cette aide a été arrêtée le ${day(row.revoked_at, 'fr')} (par ${row.revoked_by === 'helper' ? "l'aidant" : 'la personne aidée'}).`,
              ]
            : []),
          "L'aidant agit au nom de la personne aidée ; chacune de ses actions est tracée et visible dans l'historique d'activité. Chacun des deux peut mettre fin à cette aide à tout moment.",
        ]
      : [
          `${who} is a caregiver of ${whom}, born ${day(`${person.birth_date}T12:00:00Z`, 'en')}, in their Carnet health space.`,
          `Scopes granted: ${scopes}.`,
          `From ${day(row.responded_at, 'en')}${until ? ` until ${day(until, 'en')}` : ', with no end date'}.`,
          ...(row.revoked_at
            ? [
                `This help was ended on ${day(row.revoked_at, 'en')} (by the ${row.revoked_by === 'helper' ? 'caregiver' : 'person helped'}).`,
              ]
            : []),
          'The caregiver acts in the name of the person helped; each of their actions is recorded in the activity history. Either of them may end this help at any time.',
        ];
    const pdf = await renderTextPdf({
      title: fr ? "Attestation d'aidant" : 'Caregiver attestation',
      paragraphs,
      highlight: `${fr ? 'Référence' : 'Reference'} ${reference}`,
      footer: `Carnet — ${fr ? 'attestation établie le' : 'issued on'} ${day(tx.clock.now(), language)}`,
      at: tx.clock.now(),
      language,
    });
    return { pdf, reference };
  });
}
