import type { Ctx } from '../../platform/context.ts';
import { AppError, invalid } from '../../errors.ts';
import { renderTextPdf } from '../../platform/pdf.ts';
import { explainAccess, guarded, requireAccess, type Actor } from '../access/index.ts';
import { ingestSubmission, type DocumentMeta } from '../documents/index.ts';
import { getPatient, type Patient } from '../identity/index.ts';
import { listMeasurements, type Measurement } from '../measurements/index.ts';
import { readProfile, SECTIONS, type ProfileSection, type Section } from '../profile/index.ts';
import { listVaccinations, type Vaccination } from '../vaccinations/index.ts';
import {
  describeMeasurement,
  describeProfileEntry,
  describeVaccination,
  SECTION_LABELS_FR,
} from './synthesis.ts';

/**
 * The synthesis of a person's structured health data (DOMAIN §6, §4.7): gathered once through the
 * gate (entity 'Synthesis'), then rendered as a PDF saved in the vault (how professionals see
 * patient-entered data in MES) or as an IPS-like FHIR Bundle (src/fhir/ips.ts).
 */

export type SynthesisSection = Section | 'measurements' | 'vaccinations';
export const SYNTHESIS_SECTIONS: readonly SynthesisSection[] = [...SECTIONS, 'measurements', 'vaccinations'];

export function isSynthesisSection(value: string): value is SynthesisSection {
  return (SYNTHESIS_SECTIONS as readonly string[]).includes(value);
}

export interface SynthesisData {
  patient: Patient;
  generatedAt: Date;
  /** Requested sections this actor may read, in the canonical order. */
  sections: SynthesisSection[];
  /** Requested sections left out because this actor may not read that kind of data (e.g. a caregiver's scopes). */
  omitted: SynthesisSection[];
  profile: ProfileSection[];
  /** The latest measurement of each type, newest first. */
  measurements: Measurement[];
  vaccinations: Vaccination[];
}

/** Which entity of the access decision guards each kind of section. */
function entityOf(section: SynthesisSection): { type: string; action: 'read' | 'search' } {
  if (section === 'measurements') return { type: 'Observation', action: 'search' };
  if (section === 'vaccinations') return { type: 'Immunization', action: 'search' };
  return { type: 'Profile', action: 'read' };
}

/**
 * Reads the chosen sections for the synthesis. The 'Synthesis' read is decided and recorded first
 * (a denial answers 404 and is audited); each kind of data is then read through its own module and
 * gate call. A kind the actor may not read (checked without recording) is left out and named in `omitted`.
 * @example const data = await collectSynthesis(ctx, actor, patientId, ['allergies', 'vaccinations']);
 */
export async function collectSynthesis(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  requested: readonly SynthesisSection[] = SYNTHESIS_SECTIONS,
): Promise<SynthesisData> {
  const wanted = SYNTHESIS_SECTIONS.filter((s) => requested.includes(s));
  await guarded(ctx, async (tx) => {
    await requireAccess(tx, actor, {
      patientId,
      action: 'read',
      entity: { type: 'Synthesis' },
      details: { sections: wanted },
    });
  });
  const patient = await getPatient(ctx, patientId);
  if (!patient) throw new AppError('not_found', 'Not found');

  const allowedKinds = new Map<string, boolean>();
  for (const s of wanted) {
    const { type, action } = entityOf(s);
    if (!allowedKinds.has(type)) {
      const decision = await explainAccess(ctx, actor, { patientId, action, entityType: type });
      allowedKinds.set(type, decision.allow);
    }
  }
  const sections = wanted.filter((s) => allowedKinds.get(entityOf(s).type));
  const omitted = wanted.filter((s) => !sections.includes(s));

  const profileWanted = sections.filter((s): s is Section => s !== 'measurements' && s !== 'vaccinations');
  const profile =
    profileWanted.length > 0
      ? (await readProfile(ctx, actor, patientId)).filter((p) => profileWanted.includes(p.section))
      : [];
  const measurements = sections.includes('measurements')
    ? await latestMeasurements(ctx, actor, patientId)
    : [];
  const vaccinations = sections.includes('vaccinations') ? await listVaccinations(ctx, actor, patientId) : [];
  return { patient, generatedAt: ctx.clock.now(), sections, omitted, profile, measurements, vaccinations };
}

/** The latest value of each measurement type (from the 500 newest entries). */
async function latestMeasurements(ctx: Ctx, actor: Actor, patientId: string): Promise<Measurement[]> {
  const { items } = await listMeasurements(ctx, actor, patientId, { limit: 500 });
  const seen = new Set<string>();
  const out: Measurement[] = [];
  for (const m of [...items].sort((a, b) => Date.parse(b.effective) - Date.parse(a.effective))) {
    if (seen.has(m.type)) continue;
    seen.add(m.type);
    out.push(m);
  }
  return out;
}

const frDay = (iso: string): string => {
  const [y, m, d] = iso.slice(0, 10).split('-');
  return `${d}/${m}/${y}`;
};

/** The synthesis as plain French paragraphs (one line per entry, its provenance in brackets). */
export function synthesisParagraphs(data: SynthesisData, authorDisplay: string): string[] {
  const p = data.patient;
  const out: string[] = [
    `${p.given} ${p.family}, né(e) le ${frDay(p.birthDate)}`,
    `Établie le ${frDay(data.generatedAt.toISOString())} par ${authorDisplay}.`,
    'Ces informations ont été saisies par la personne, ses représentants, des applications ou des professionnels : la source de chaque élément est indiquée entre crochets.',
  ];
  for (const section of data.sections) {
    out.push('', SECTION_LABELS_FR[section].toUpperCase());
    if (section === 'measurements') {
      if (data.measurements.length === 0) out.push('Aucune mesure enregistrée.');
      for (const m of data.measurements) out.push(`- ${describeMeasurement(m)}`);
      continue;
    }
    if (section === 'vaccinations') {
      if (data.vaccinations.length === 0) out.push('Aucune vaccination enregistrée.');
      for (const v of data.vaccinations) out.push(`- ${describeVaccination(v)}`);
      continue;
    }
    const found = data.profile.find((s) => s.section === section);
    if (!found || found.state === 'unknown') out.push('Non renseigné.');
    else if (found.state === 'not_concerned') out.push('Non concerné(e).');
    else for (const e of found.entries) out.push(`- ${describeProfileEntry(section, e)}`);
  }
  if (data.omitted.length > 0)
    out.push(
      '',
      `Sections non incluses (accès non autorisé) : ${data.omitted.map((s) => SECTION_LABELS_FR[s]).join(', ')}.`,
    );
  return out;
}

export interface SynthesisPdfRequest {
  sections: readonly SynthesisSection[];
  title?: string;
}

/**
 * Renders the synthesis PDF and saves it in the person's vault as a patient document of category
 * 'profile-synthesis' (the documents module's own gate call decides the creation).
 * @example const doc = await createSynthesisDocument(ctx, actor, patientId, { sections: ['allergies'] });
 */
export async function createSynthesisDocument(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  req: SynthesisPdfRequest,
): Promise<{ document: DocumentMeta; sections: SynthesisSection[]; omitted: SynthesisSection[] }> {
  if (req.sections.length === 0) throw invalid('Choose at least one section', 'sections');
  const data = await collectSynthesis(ctx, actor, patientId, req.sections);
  const title = req.title?.trim() || 'Synthèse du profil médical';
  const pdf = await renderTextPdf({
    title,
    paragraphs: synthesisParagraphs(data, actor.display),
    footer: `Carnet — ${title} — ${frDay(data.generatedAt.toISOString())}`,
    at: data.generatedAt,
    language: 'fr',
  });
  const result = await ingestSubmission(ctx, actor, {
    patient: data.patient,
    documents: [
      {
        masterIdentifier: `urn:uuid:${crypto.randomUUID()}`,
        mediaType: 'application/pdf',
        content: pdf,
        title,
        category: 'profile-synthesis',
        documentDate: data.generatedAt.toISOString().slice(0, 10),
        extra: { synthesis: { sections: data.sections } },
        fieldPrefix: 'sections',
      },
    ],
  });
  const doc = result.documents[0];
  if (!doc) throw new AppError('internal', 'the synthesis produced no document');
  return { document: doc.meta, sections: data.sections, omitted: data.omitted };
}
