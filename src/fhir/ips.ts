/**
 * The synthesis as a FHIR document Bundle in the spirit of the International Patient Summary: a
 * Composition (LOINC 60591-5) whose sections list the entries, a Patient, and one resource per
 * entry. Every entry's provenance (author kind: patient | representative | app | professional |
 * import) is a meta.tag in the Carnet author-kind code system (AUTHOR_KIND_SYSTEM), with the
 * author's display. Served to the person (GET /api/synthesis/fhir) and, as `Patient/$summary`, to
 * professionals' software when the access decision allows (entity 'Synthesis').
 */
import { randomUUID } from 'node:crypto';
import { invalid } from '../errors.ts';
import type { Ctx } from '../platform/context.ts';
import type { Actor, ProfessionalActor } from '../modules/access/index.ts';
import { resolvePatientByIns } from '../modules/identity/index.ts';
import { collectSynthesis, type SynthesisData } from '../modules/synthesis/index.ts';
import { insFromToken, type FhirResource } from './common.ts';
import { toImmunization } from './immunization.fhir.ts';
import { LOINC, toObservation } from './observation.fhir.ts';
import {
  PROFILE_IPS_SECTION,
  profileEntryToFhir,
  provenanceMeta,
  type IpsSectionKey,
} from './profile.fhir.ts';
import type { RawQuery } from './search-params.ts';

export const IPS_COMPOSITION_PROFILE = 'http://hl7.org/fhir/uv/ips/StructureDefinition/Composition-uv-ips';
const EMPTY_REASON = 'http://terminology.hl7.org/CodeSystem/list-empty-reason';

type SectionKey = IpsSectionKey | 'immunizations' | 'vitals';

/** IPS sections, in order: LOINC code and title. */
export const IPS_SECTIONS: ReadonlyArray<{ key: SectionKey; code: string; display: string; title: string }> =
  [
    {
      key: 'allergies',
      code: '48765-2',
      display: 'Allergies and adverse reactions Document',
      title: 'Allergies et intolérances',
    },
    { key: 'problems', code: '11450-4', display: 'Problem list - Reported', title: 'Problèmes de santé' },
    {
      key: 'medications',
      code: '10160-0',
      display: 'History of Medication use Narrative',
      title: 'Traitements',
    },
    {
      key: 'immunizations',
      code: '11369-6',
      display: 'History of Immunization Narrative',
      title: 'Vaccinations',
    },
    { key: 'vitals', code: '8716-3', display: 'Vital signs', title: 'Mesures de santé' },
    {
      key: 'procedures',
      code: '47519-4',
      display: 'History of Procedures Document',
      title: 'Hospitalisations et interventions',
    },
    {
      key: 'family',
      code: '10157-6',
      display: 'History of family member diseases Narrative',
      title: 'Antécédents familiaux',
    },
    { key: 'functional', code: '47420-5', display: 'Functional status assessment note', title: 'Handicaps' },
    {
      key: 'results',
      code: '30954-2',
      display: 'Relevant diagnostic tests/laboratory data Narrative',
      title: 'Groupe sanguin',
    },
    { key: 'social', code: '29762-2', display: 'Social history Narrative', title: 'Mode de vie' },
  ];

/** Which profile sections feed each IPS section (for "not concerned" / unknown states). */
function profileSectionsOf(key: SectionKey): string[] {
  return Object.entries(PROFILE_IPS_SECTION)
    .filter(([, k]) => k === key)
    .map(([s]) => s);
}

/**
 * Builds the document Bundle from gathered synthesis data.
 * @example const bundle = ipsBundle(await collectSynthesis(ctx, actor, patientId), ctx.config.baseUrl);
 */
export function ipsBundle(data: SynthesisData, baseUrl: string): FhirResource {
  const p = data.patient;
  const patientUrl = `urn:uuid:${p.id}`;
  const subject = {
    reference: patientUrl,
    identifier: { system: `urn:oid:${p.ins.oid}`, value: p.ins.matricule },
  };
  const bySection = new Map<SectionKey, Array<{ fullUrl: string; resource: FhirResource }>>();
  const add = (key: SectionKey, resource: FhirResource) => {
    const list = bySection.get(key) ?? [];
    list.push({ fullUrl: `urn:uuid:${resource.id ?? randomUUID()}`, resource });
    bySection.set(key, list);
  };
  for (const s of data.profile) {
    const key = PROFILE_IPS_SECTION[s.section];
    if (!key) continue;
    for (const e of s.entries) {
      const resource = profileEntryToFhir(s.section, e, subject);
      if (resource) add(key, resource);
    }
  }
  for (const m of data.measurements) {
    const obs = toObservation(m, p.ins, baseUrl);
    add('vitals', {
      ...obs,
      subject,
      meta: { ...(obs.meta as Record<string, unknown>), ...provenanceMeta(m.author, m.updatedAt, m.version) },
    });
  }
  for (const v of data.vaccinations) add('immunizations', { ...toImmunization(v, p.ins), patient: subject });

  const included = (key: SectionKey): boolean =>
    key === 'vitals'
      ? data.sections.includes('measurements')
      : key === 'immunizations'
        ? data.sections.includes('vaccinations')
        : profileSectionsOf(key).some((s) => (data.sections as string[]).includes(s));

  const sections = IPS_SECTIONS.filter((s) => included(s.key)).map((s) => {
    const entries = bySection.get(s.key) ?? [];
    const states = data.profile
      .filter((ps) => profileSectionsOf(s.key).includes(ps.section))
      .map((ps) => ps.state);
    const notConcerned = states.length > 0 && states.every((st) => st === 'not_concerned');
    return {
      title: s.title,
      code: { coding: [{ system: LOINC, code: s.code, display: s.display }] },
      text: {
        status: 'generated',
        div: `<div xmlns="http://www.w3.org/1999/xhtml">${entries.length} ${entries.length > 1 ? 'éléments' : 'élément'}</div>`,
      },
      ...(entries.length > 0
        ? { entry: entries.map((e) => ({ reference: e.fullUrl })) }
        : {
            emptyReason: {
              coding: [
                notConcerned
                  ? { system: EMPTY_REASON, code: 'nilknown', display: 'Nil Known' }
                  : { system: EMPTY_REASON, code: 'unavailable', display: 'Unavailable' },
              ],
            },
          }),
    };
  });

  const at = data.generatedAt.toISOString();
  const compositionId = randomUUID();
  const composition: FhirResource = {
    resourceType: 'Composition',
    id: compositionId,
    meta: { profile: [IPS_COMPOSITION_PROFILE] },
    status: 'final',
    type: { coding: [{ system: LOINC, code: '60591-5', display: 'Patient summary Document' }] },
    subject: { reference: patientUrl },
    date: at,
    author: [{ display: 'Carnet' }],
    title: 'Synthèse du profil médical',
    confidentiality: 'N',
    section: sections,
  };
  const patient: FhirResource = {
    resourceType: 'Patient',
    id: p.id,
    identifier: [{ system: `urn:oid:${p.ins.oid}`, value: p.ins.matricule }],
    name: [{ family: p.family, given: [p.given] }],
    gender: p.sex === 'M' ? 'male' : p.sex === 'F' ? 'female' : 'unknown',
    birthDate: p.birthDate,
  };
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${compositionId}` },
    type: 'document',
    timestamp: at,
    entry: [
      { fullUrl: `urn:uuid:${compositionId}`, resource: composition },
      { fullUrl: patientUrl, resource: patient },
      ...[...bySection.values()].flat(),
    ],
  };
}

/** The person's own IPS-like Bundle (every section the actor may read). */
export async function synthesisBundle(ctx: Ctx, actor: Actor, patientId: string): Promise<FhirResource> {
  return ipsBundle(await collectSynthesis(ctx, actor, patientId), ctx.config.baseUrl);
}

export const SUMMARY_PARAMS = new Set(['identifier', '_format']);

/** GET Patient/$summary?identifier=<system|value>: for professionals, as the access decision allows. */
export async function patientSummary(
  ctx: Ctx,
  actor: ProfessionalActor,
  raw: RawQuery,
): Promise<FhirResource> {
  for (const name of Object.keys(raw))
    if (!SUMMARY_PARAMS.has(name)) throw invalid(`Unknown or unsupported parameter: ${name}`, name);
  const value = raw.identifier;
  const token = Array.isArray(value) ? value[0] : value;
  if (!token) throw invalid('identifier is required (the INS, system|value)', 'identifier');
  const ins = insFromToken(token, 'identifier', ctx.config.testInsOids);
  const { patient } = await resolvePatientByIns(ctx, ins, 'identifier');
  return synthesisBundle(ctx, actor, patient.id);
}
