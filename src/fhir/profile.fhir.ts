/**
 * Medical-profile entries as FHIR R4 resources, for the IPS-like synthesis Bundle (src/fhir/ips.ts).
 * allergies → AllergyIntolerance; diseases → Condition (problem-list-item); disabilities → Condition
 * (functional status); treatments → MedicationStatement; hospitalisations and surgeries → Procedure;
 * family-history → FamilyMemberHistory; blood-group → Observation (LOINC 882-1); lifestyle →
 * Observation (social-history). Not mapped (no IPS resource fits, left to the PDF): advance
 * directives, organ donation, contacts, care team. Each resource carries its provenance as a
 * meta.tag in the Carnet author-kind code system.
 */
import type { ProfileEntry, Section } from '../modules/profile/index.ts';
import type { FhirResource } from './common.ts';
import { AUTHOR_KIND_SYSTEM } from './immunization.fhir.ts';
import { LOINC } from './observation.fhir.ts';

export const SNOMED = 'http://snomed.info/sct';
const ALLERGY_CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';
const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const ROLE_CODE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';

/** Provenance of an entry as a meta.tag (author kind, author display) and its last update. */
export function provenanceMeta(
  author: { kind: string; display: string },
  lastUpdated: string,
  version?: number,
): Record<string, unknown> {
  return {
    ...(version !== undefined ? { versionId: String(version) } : {}),
    lastUpdated,
    tag: [{ system: AUTHOR_KIND_SYSTEM, code: author.kind, display: author.display }],
  };
}

interface Concept {
  text: string;
  coding?: { system: string; code: string; display?: string };
}

function concept(v: unknown): Record<string, unknown> {
  const c = (v ?? { text: '' }) as Concept;
  return { ...(c.coding ? { coding: [c.coding] } : {}), text: c.text };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const notes = (f: Record<string, unknown>) => (str(f.note) ? { note: [{ text: f.note }] } : {});
const period = (start: unknown, end: unknown) =>
  str(start) || str(end) ? { ...(str(start) ? { start } : {}), ...(str(end) ? { end } : {}) } : undefined;

const RELATIONSHIP: Record<string, { code: string; display: string }> = {
  mother: { code: 'MTH', display: 'mother' },
  father: { code: 'FTH', display: 'father' },
  sibling: { code: 'SIB', display: 'sibling' },
  child: { code: 'CHILD', display: 'child' },
  grandparent: { code: 'GRPRN', display: 'grandparent' },
  'uncle-aunt': { code: 'EXT', display: 'extended family member' },
  cousin: { code: 'COUSN', display: 'cousin' },
  other: { code: 'FAMMEMB', display: 'family member' },
};

const LIFESTYLE_LOINC: Record<string, { code: string; display: string }> = {
  tobacco: { code: '72166-2', display: 'Tobacco smoking status' },
  alcohol: { code: '11331-6', display: 'History of Alcohol use' },
  activity: { code: '73985-4', display: 'Exercise activity' },
  food: { code: '61144-2', display: 'Diet and nutrition' },
  sleep: { code: '93832-4', display: 'Sleep duration' },
};

/** The IPS section an entry's resource belongs to, or undefined when the section is not mapped. */
export type IpsSectionKey =
  'allergies' | 'problems' | 'medications' | 'procedures' | 'family' | 'functional' | 'results' | 'social';

export const PROFILE_IPS_SECTION: Partial<Record<Section, IpsSectionKey>> = {
  allergies: 'allergies',
  diseases: 'problems',
  treatments: 'medications',
  hospitalisations: 'procedures',
  'family-history': 'family',
  disabilities: 'functional',
  'blood-group': 'results',
  lifestyle: 'social',
};

/**
 * A profile entry as a FHIR resource referring to the patient, or undefined for sections the
 * synthesis Bundle does not map.
 * @example profileEntryToFhir('allergies', entry, { reference: 'urn:uuid:…' })
 */
export function profileEntryToFhir(
  section: Section,
  e: ProfileEntry,
  patient: Record<string, unknown>,
): FhirResource | undefined {
  const f = e.fields;
  const base = { id: e.id, meta: provenanceMeta(e.author, e.updatedAt) };
  switch (section) {
    case 'allergies':
      return {
        resourceType: 'AllergyIntolerance',
        ...base,
        clinicalStatus: { coding: [{ system: ALLERGY_CLINICAL, code: 'active' }] },
        type: f.kind === 'intolerance' ? 'intolerance' : 'allergy',
        ...(str(f.category) && f.category !== 'other' ? { category: [f.category] } : {}),
        ...(str(f.criticality) ? { criticality: f.criticality } : {}),
        code: concept(f.substance),
        patient,
        ...(str(f.since) ? { onsetDateTime: f.since } : {}),
        recordedDate: e.createdAt,
        ...(str(f.reaction) || str(f.severity)
          ? {
              reaction: [
                {
                  manifestation: [{ text: str(f.reaction) ?? 'unspecified' }],
                  ...(str(f.severity) ? { severity: f.severity } : {}),
                },
              ],
            }
          : {}),
        ...notes(f),
      };
    case 'diseases':
      return {
        resourceType: 'Condition',
        ...base,
        clinicalStatus: {
          coding: [{ system: CONDITION_CLINICAL, code: str(f.status) ?? 'active' }],
        },
        category: [{ coding: [{ system: CONDITION_CATEGORY, code: 'problem-list-item' }] }],
        code: concept(f.condition),
        subject: patient,
        ...(str(f.since) ? { onsetDateTime: f.since } : {}),
        ...(str(f.until) ? { abatementDateTime: f.until } : {}),
        recordedDate: e.createdAt,
        ...notes(f),
      };
    case 'disabilities':
      return {
        resourceType: 'Condition',
        ...base,
        clinicalStatus: { coding: [{ system: CONDITION_CLINICAL, code: 'active' }] },
        category: [
          { coding: [{ system: CONDITION_CATEGORY, code: 'problem-list-item' }], text: 'disability' },
        ],
        code: { text: [`disability: ${String(f.type)}`, str(f.description)].filter(Boolean).join(' — ') },
        subject: patient,
        extension: [
          { url: 'urn:carnet:StructureDefinition/disability-rate-band', valueCode: f.rateBand },
          { url: 'urn:carnet:StructureDefinition/disability-human-help', valueBoolean: f.humanHelp === true },
        ],
        recordedDate: e.createdAt,
        ...notes(f),
      };
    case 'treatments': {
      const effective = period(f.since, f.until);
      return {
        resourceType: 'MedicationStatement',
        ...base,
        status: str(f.until) ? 'completed' : 'active',
        medicationCodeableConcept: concept(f.name),
        subject: patient,
        ...(effective ? { effectivePeriod: effective } : {}),
        dateAsserted: e.createdAt,
        ...(str(f.reason) ? { reasonCode: [{ text: f.reason }] } : {}),
        ...(str(f.dose) || str(f.frequency)
          ? { dosage: [{ text: [str(f.dose), str(f.frequency)].filter(Boolean).join(', ') }] }
          : {}),
        ...notes(f),
      };
    }
    case 'hospitalisations':
      return {
        resourceType: 'Procedure',
        ...base,
        status: 'completed',
        category: {
          coding: [
            f.kind === 'surgery'
              ? { system: SNOMED, code: '387713003', display: 'Surgical procedure' }
              : { system: SNOMED, code: '32485007', display: 'Hospital admission' },
          ],
        },
        code: concept(f.reason),
        subject: patient,
        ...(str(f.until) ? { performedPeriod: period(f.date, f.until) } : { performedDateTime: f.date }),
        ...(str(f.place) ? { location: { display: f.place } } : {}),
        ...notes(f),
      };
    case 'family-history': {
      const rel = RELATIONSHIP[String(f.relationship)] ?? { code: 'FAMMEMB', display: 'family member' };
      return {
        resourceType: 'FamilyMemberHistory',
        ...base,
        status: 'completed',
        patient,
        date: e.createdAt.slice(0, 10),
        relationship: { coding: [{ system: ROLE_CODE, ...rel }] },
        condition: [
          {
            code: concept(f.condition),
            ...(typeof f.ageAtOnset === 'number'
              ? {
                  onsetAge: {
                    value: f.ageAtOnset,
                    unit: 'a',
                    system: 'http://unitsofmeasure.org',
                    code: 'a',
                  },
                }
              : {}),
          },
        ],
        ...notes(f),
      };
    }
    case 'blood-group':
      return {
        resourceType: 'Observation',
        ...base,
        status: 'final',
        category: [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'laboratory' }] }],
        code: { coding: [{ system: LOINC, code: '882-1', display: 'ABO and Rh group [Type] in Blood' }] },
        subject: patient,
        effectiveDateTime: e.updatedAt,
        valueCodeableConcept: { text: `${String(f.abo)} ${f.rhesus === 'positive' ? 'Rh+' : 'Rh-'}` },
      };
    case 'lifestyle': {
      const code = LIFESTYLE_LOINC[String(f.topic)];
      return {
        resourceType: 'Observation',
        ...base,
        status: 'final',
        category: [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'social-history' }] }],
        code: {
          ...(code ? { coding: [{ system: LOINC, ...code }] } : {}),
          text: String(f.topic),
        },
        subject: patient,
        effectiveDateTime: e.updatedAt,
        valueString: [String(f.description), str(f.quantity)].filter(Boolean).join(' — '),
        ...notes(f),
      };
    }
    default:
      return undefined;
  }
}
