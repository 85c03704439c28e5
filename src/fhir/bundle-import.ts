import { z } from 'zod';
import { invalid } from '../errors.ts';
import type { ImportedEntry } from '../modules/profile/index.ts';
import type { ImportItem } from '../modules/measurements/index.ts';
import { typeByLoinc } from '../modules/measurements/index.ts';
import type { VaccinationInput } from '../modules/vaccinations/index.ts';
import { fhirPath } from './common.ts';
import { TARGET_DISEASE_SYSTEM } from './immunization.fhir.ts';

/**
 * Import of a person's FHIR R4 Bundle (transaction, batch or collection, e.g. Synthea) into their
 * profile, measurements and vaccinations: pure mapping, no I/O. Each resource becomes one import
 * item or one skip with its reason. The Bundle's Patient is NOT used to identify the person: the
 * items go to the person signed in (or represented); the Patient only names the import source.
 */

export const IMPORT_BUNDLE_TYPES = ['transaction', 'batch', 'collection'] as const;
export const MAX_IMPORT_ENTRIES = 20_000;

const bundleSchema = z.looseObject({
  resourceType: z.literal('Bundle'),
  type: z.string(),
  identifier: z.looseObject({ system: z.string().optional(), value: z.string().optional() }).optional(),
  entry: z
    .array(
      z.looseObject({
        fullUrl: z.string().max(500).optional(),
        resource: z.looseObject({
          resourceType: z.string().min(1).max(64),
          id: z.string().max(200).optional(),
        }),
      }),
    )
    .max(MAX_IMPORT_ENTRIES)
    .default([]),
});

type Res = Record<string, unknown> & { resourceType: string; id?: string };

export interface BloodPressureItem {
  externalId: string;
  source: string;
  effective: string;
  systolic: { value: number; unit: string };
  diastolic: { value: number; unit: string };
}

/** What one bundle entry became. */
export type Mapped =
  | { kind: 'profile'; resourceType: string; item: ImportedEntry }
  | { kind: 'immunization'; resourceType: string; item: VaccinationInput & { externalId: string } }
  | { kind: 'measurement'; resourceType: string; item: ImportItem }
  | { kind: 'blood-pressure'; resourceType: string; item: BloodPressureItem }
  | { kind: 'skip'; resourceType: string; reason: string };

export interface MappedBundle {
  source: string;
  entries: Mapped[];
}

/** Validates the Bundle's shape (400 naming the faulty element) and maps every entry. */
export function mapBundle(body: unknown): MappedBundle {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid('A FHIR Bundle (JSON object) is expected', 'resourceType');
  const parsed = bundleSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(
      `Invalid Bundle: ${issue?.message ?? 'invalid'}`,
      fhirPath('', issue?.path ?? []).replace(/^\./, '') || 'resourceType',
    );
  }
  const bundle = parsed.data;
  if (!(IMPORT_BUNDLE_TYPES as readonly string[]).includes(bundle.type))
    throw invalid(
      `Bundle type '${bundle.type}' cannot be imported (expected ${IMPORT_BUNDLE_TYPES.join(', ')})`,
      'type',
    );
  const entries = bundle.entry;
  const patient = entries.find((e) => e.resource.resourceType === 'Patient');
  const source = `fhir-import:${
    bundle.identifier?.value
      ? `${bundle.identifier.system ?? ''}|${bundle.identifier.value}`
      : (patient?.resource.id ?? patient?.fullUrl ?? 'bundle')
  }`.slice(0, 200);
  const byUrl = new Map<string, Res>();
  for (const e of entries) {
    const r = e.resource as Res;
    if (e.fullUrl) byUrl.set(e.fullUrl, r);
    if (r.id) byUrl.set(`${r.resourceType}/${r.id}`, r);
  }
  return {
    source,
    entries: entries.map((e) => mapResource(e.resource as Res, e.fullUrl, source, byUrl)),
  };
}

// --- small readers over untyped FHIR JSON ---

const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const codeOf = (cc: unknown, system?: string): string | undefined => {
  const codings = arr(obj(cc)?.coding).map(obj);
  const c = system ? codings.find((x) => x?.system === system) : codings[0];
  return str(c?.code);
};
/** A full day (YYYY-MM-DD) from a FHIR date/dateTime; partial dates (e.g. '2004') give undefined. */
export const dayOf = (v: unknown): string | undefined => {
  const s = str(v);
  return s && /^\d{4}-\d{2}-\d{2}/.test(s) ? s.slice(0, 10) : undefined;
};
const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** A concept as the profile keeps it: text (required) and its first usable coding. */
export function conceptOf(
  cc: unknown,
): { text: string; coding?: { system: string; code: string; display?: string } } | undefined {
  const c = obj(cc);
  if (!c) return undefined;
  const codings = arr(c.coding).map(obj);
  const first = codings.find((x) => str(x?.system) && str(x?.code));
  const text = str(c.text) ?? codings.map((x) => str(x?.display)).find(Boolean);
  if (!text) return undefined;
  const coding = first
    ? {
        system: clip(str(first.system) ?? '', 200),
        code: clip(str(first.code) ?? '', 64),
        ...(str(first.display) ? { display: clip(str(first.display) ?? '', 300) } : {}),
      }
    : undefined;
  return { text: clip(text, 300), ...(coding ? { coding } : {}) };
}

const SKIP_TYPES: Readonly<Record<string, string>> = {
  Patient: 'the person is the one signed in: the Bundle’s Patient is not used',
  Encounter: 'encounters are not part of the profile',
  Claim: 'billing data is not imported',
  ExplanationOfBenefit: 'billing data is not imported',
  Organization: 'directory data is not imported',
  Practitioner: 'directory data is not imported',
  PractitionerRole: 'directory data is not imported',
  Location: 'directory data is not imported',
  DiagnosticReport: 'reports are documents: add them as documents',
  DocumentReference: 'documents are not imported through a Bundle',
  ImagingStudy: 'imaging studies are not imported',
  CarePlan: 'care plans are not imported',
  CareTeam: 'care teams are not imported',
  Goal: 'goals are not imported',
  Device: 'devices are not imported',
  Medication: 'read through the MedicationStatement/MedicationRequest naming it',
  MedicationAdministration: 'administrations are not treatments',
  Provenance: 'provenance of the source is not imported',
  SupplyDelivery: 'supply data is not imported',
};

const NO_KNOWN_ALLERGY = new Set(['409137002', '716186003', '428607008', '429625007', '428197003']);
const CURRENT_CONDITION: Readonly<Record<string, 'active' | 'remission' | 'resolved'>> = {
  active: 'active',
  recurrence: 'active',
  relapse: 'active',
  remission: 'remission',
  inactive: 'resolved',
  resolved: 'resolved',
};
const RELATIONSHIP: Readonly<Record<string, string>> = {
  MTH: 'mother',
  FTH: 'father',
  NMTH: 'mother',
  NFTH: 'father',
  SIB: 'sibling',
  BRO: 'sibling',
  SIS: 'sibling',
  NSIB: 'sibling',
  NBRO: 'sibling',
  NSIS: 'sibling',
  TWIN: 'sibling',
  CHILD: 'child',
  SON: 'child',
  DAU: 'child',
  NCHILD: 'child',
  GRPRN: 'grandparent',
  GRMTH: 'grandparent',
  GRFTH: 'grandparent',
  MGRMTH: 'grandparent',
  MGRFTH: 'grandparent',
  PGRMTH: 'grandparent',
  PGRFTH: 'grandparent',
  AUNT: 'uncle-aunt',
  UNCLE: 'uncle-aunt',
  MAUNT: 'uncle-aunt',
  PAUNT: 'uncle-aunt',
  MUNCLE: 'uncle-aunt',
  PUNCLE: 'uncle-aunt',
  COUSN: 'cousin',
  MCOUSN: 'cousin',
  PCOUSN: 'cousin',
  // What the synthesis Bundle emits for 'uncle-aunt' (src/fhir/profile.fhir.ts).
  EXT: 'uncle-aunt',
};

/** The resource's notes as one profile note (their texts, one per line), if any. */
function noteOf(r: Res): { note: string } | Record<string, never> {
  const text = arr(r.note)
    .map((n) => str(obj(n)?.text))
    .filter(Boolean)
    .join('\n');
  return text ? { note: clip(text, 2000) } : {};
}

const SNOMED = 'http://snomed.info/sct';
/** Procedure categories the synthesis Bundle emits for the hospitalisations section. */
const PROCEDURE_KIND: Readonly<Record<string, 'surgery' | 'hospitalisation'>> = {
  '387713003': 'surgery',
  '32485007': 'hospitalisation',
};
const DISABILITY_TYPES = ['motor', 'sensory', 'mental', 'psychic', 'cognitive', 'multiple', 'other'];
const RATE_BANDS = ['under-50', '50-79', '80-or-more', 'unknown'];
const DISABILITY_EXT = 'urn:carnet:StructureDefinition/disability-';

function mapResource(r: Res, fullUrl: string | undefined, source: string, byUrl: Map<string, Res>): Mapped {
  const resourceType = r.resourceType;
  const skip = (reason: string): Mapped => ({ kind: 'skip', resourceType, reason });
  const externalId = fullUrl ?? (r.id ? `${resourceType}/${r.id}` : undefined);
  const profile = (section: string, fields: Record<string, unknown>, suffix = ''): Mapped => ({
    kind: 'profile',
    resourceType,
    item: { section, fields, externalId: `${externalId ?? ''}${suffix}`, source },
  });
  switch (resourceType) {
    case 'AllergyIntolerance': {
      if (!externalId) return skip('no fullUrl or id: cannot be imported idempotently');
      const verification = codeOf(r.verificationStatus);
      if (verification === 'refuted' || verification === 'entered-in-error')
        return skip(`verification status ${verification}`);
      const clinical = codeOf(r.clinicalStatus);
      if (clinical === 'inactive' || clinical === 'resolved')
        return skip(`clinical status ${clinical}: the profile lists current allergies`);
      if (NO_KNOWN_ALLERGY.has(codeOf(r.code, 'http://snomed.info/sct') ?? ''))
        return skip('a "no known allergy" statement: declare the section "not concerned" instead');
      const substance = conceptOf(r.code);
      if (!substance) return skip('no substance (code) named');
      const reaction = obj(arr(r.reaction)[0]);
      const manifestation = conceptOf(arr(reaction?.manifestation)[0]);
      const category = str(arr(r.category)[0]);
      const severity = str(reaction?.severity);
      const criticality = str(r.criticality);
      const since = dayOf(r.onsetDateTime);
      return profile('allergies', {
        substance,
        kind: r.type === 'intolerance' ? 'intolerance' : 'allergy',
        ...(category ? { category } : {}),
        ...(manifestation ? { reaction: manifestation.text } : {}),
        ...(severity ? { severity } : {}),
        ...(criticality ? { criticality } : {}),
        ...(since ? { since } : {}),
        ...noteOf(r),
      });
    }
    case 'Condition': {
      if (!externalId) return skip('no fullUrl or id: cannot be imported idempotently');
      const verification = codeOf(r.verificationStatus);
      if (verification && verification !== 'confirmed')
        return skip(`verification status ${verification}: only confirmed conditions are imported`);
      if (isDisability(r)) return disabilityOf(r, profile);
      const condition = conceptOf(r.code);
      if (!condition) return skip('no condition (code) named');
      if (/^family history of/i.test(condition.coding?.display ?? condition.text))
        return skip('a family-history finding without the relative: add it to family history by hand');
      const clinical = codeOf(r.clinicalStatus);
      const status = clinical ? CURRENT_CONDITION[clinical] : 'active';
      if (!status) return skip(`clinical status ${clinical ?? ''} is not known`);
      const since = dayOf(r.onsetDateTime) ?? dayOf(obj(r.onsetPeriod)?.start);
      const until = dayOf(r.abatementDateTime) ?? dayOf(obj(r.abatementPeriod)?.end);
      return profile('diseases', {
        condition,
        status,
        ...(since ? { since } : {}),
        ...(until && status === 'resolved' ? { until } : {}),
        ...noteOf(r),
      });
    }
    case 'MedicationStatement':
    case 'MedicationRequest': {
      if (!externalId) return skip('no fullUrl or id: cannot be imported idempotently');
      const status = str(r.status) ?? 'unknown';
      const period = obj(r.effectivePeriod);
      const until = dayOf(period?.end);
      const current =
        resourceType === 'MedicationStatement'
          ? ['active', 'intended', 'on-hold'].includes(status) ||
            (['completed', 'stopped'].includes(status) && until !== undefined)
          : ['active', 'on-hold'].includes(status);
      if (!current)
        return skip(
          resourceType === 'MedicationRequest'
            ? `prescription status ${status}: only current prescriptions are imported as treatments`
            : `status ${status}: ${status === 'entered-in-error' || status === 'not-taken' ? 'not a treatment taken' : 'no longer taken and no end date'}`,
        );
      const name = medicationOf(r, byUrl);
      if (!name) return skip('the medication cannot be resolved (no code, or an unresolvable reference)');
      const dosage = obj(arr(resourceType === 'MedicationStatement' ? r.dosage : r.dosageInstruction)[0]);
      const dose = str(dosage?.text);
      const since =
        resourceType === 'MedicationStatement'
          ? (dayOf(r.effectiveDateTime) ?? dayOf(period?.start))
          : dayOf(r.authoredOn);
      const reason = conceptOf(arr(r.reasonCode)[0]);
      return profile('treatments', {
        name,
        ...(dose ? { dose: clip(dose, 200) } : {}),
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
        ...(reason ? { reason: reason.text } : {}),
        ...noteOf(r),
      });
    }
    case 'FamilyMemberHistory': {
      if (!externalId) return skip('no fullUrl or id: cannot be imported idempotently');
      const status = str(r.status);
      if (status === 'entered-in-error' || status === 'health-unknown') return skip(`status ${status}`);
      const conditions = arr(r.condition).map(obj);
      const first = conditions[0];
      if (conditions.length !== 1 || !first)
        return skip(
          conditions.length === 0
            ? 'no condition of the relative'
            : 'several conditions in one history: not imported (one entry per condition is expected)',
        );
      const condition = conceptOf(first.code);
      if (!condition) return skip('no condition (code) named');
      const rel = codeOf(r.relationship) ?? '';
      const onset = obj(first.onsetAge);
      const age =
        typeof onset?.value === 'number' &&
        (onset.code === 'a' || onset.unit === 'yr' || onset.unit === 'years')
          ? Math.round(onset.value)
          : undefined;
      return profile('family-history', {
        relationship: RELATIONSHIP[rel] ?? 'other',
        condition,
        ...(age !== undefined && age >= 0 && age <= 130 ? { ageAtOnset: age } : {}),
        ...noteOf(r),
      });
    }
    case 'Procedure': {
      const kind = PROCEDURE_KIND[codeOf(r.category, SNOMED) ?? ''];
      if (!kind)
        return skip(
          'only hospital admissions and surgical procedures (category) are imported (add surgeries to the profile by hand)',
        );
      if (!externalId) return skip('no fullUrl or id: cannot be imported idempotently');
      const status = str(r.status);
      if (status !== 'completed' && status !== 'in-progress') return skip(`status ${status ?? 'missing'}`);
      const reason = conceptOf(r.code);
      if (!reason) return skip('no procedure (code) named');
      const performed = obj(r.performedPeriod);
      const date = dayOf(r.performedDateTime) ?? dayOf(performed?.start);
      if (!date) return skip('no full performed date');
      const until = dayOf(performed?.end);
      const place = str(obj(r.location)?.display);
      return profile('hospitalisations', {
        kind,
        reason,
        date,
        ...(until ? { until } : {}),
        ...(place ? { place: clip(place, 300) } : {}),
        ...noteOf(r),
      });
    }
    case 'Immunization': {
      if (!externalId) return skip('no fullUrl or id: cannot be imported idempotently');
      const status = str(r.status);
      if (status !== 'completed' && status !== 'not-done') return skip(`status ${status ?? 'missing'}`);
      const product = conceptOf(r.vaccineCode);
      if (!product) return skip('no vaccine (vaccineCode) named');
      const date = dayOf(r.occurrenceDateTime);
      if (!date) return skip('no full occurrence date');
      const lot = str(r.lotNumber);
      const reason = conceptOf(r.statusReason);
      const protocol = obj(arr(r.protocolApplied)[0]);
      const series = str(protocol?.series);
      const dose = protocol?.doseNumberPositiveInt;
      const targets = arr(protocol?.targetDisease)
        .map((t) => codeOf(t, TARGET_DISEASE_SYSTEM))
        .filter((c): c is string => c !== undefined);
      const comment = noteOf(r).note;
      return {
        kind: 'immunization',
        resourceType,
        item: {
          externalId,
          status,
          ...(status === 'not-done' && reason ? { statusReason: reason.text } : {}),
          product: {
            system: product.coding?.system ?? null,
            code: product.coding?.code ?? null,
            display: product.text,
          },
          date,
          ...(lot ? { lotNumber: clip(lot, 100) } : {}),
          ...(series === 'primary' || series === 'booster' || series === 'catch-up' ? { kind: series } : {}),
          ...(typeof dose === 'number' && Number.isInteger(dose) && dose >= 1 && dose <= 20
            ? { doseNumber: dose }
            : {}),
          // Only Carnet's own target-disease codes: other systems are left to the product's defaults.
          ...(targets.length > 0 ? { targetDiseases: targets } : {}),
          ...(comment ? { comment } : {}),
        },
      };
    }
    case 'Observation':
      return observationOf(r, externalId, source);
    default:
      return skip(SKIP_TYPES[resourceType] ?? `${resourceType} is not imported`);
  }
}

function medicationOf(r: Res, byUrl: Map<string, Res>): ReturnType<typeof conceptOf> {
  if (r.medicationCodeableConcept) return conceptOf(r.medicationCodeableConcept);
  const ref = str(obj(r.medicationReference)?.reference);
  if (!ref) return undefined;
  const med = ref.startsWith('#')
    ? arr(r.contained)
        .map(obj)
        .find((c) => c?.resourceType === 'Medication' && c.id === ref.slice(1))
    : byUrl.get(ref);
  return med ? conceptOf(med.code) : undefined;
}

export const LOINC = 'http://loinc.org';

function observationOf(r: Res, externalId: string | undefined, source: string): Mapped {
  const resourceType = r.resourceType;
  const skip = (reason: string): Mapped => ({ kind: 'skip', resourceType, reason });
  const categories = arr(r.category).flatMap((c) => arr(obj(c)?.coding).map((x) => str(obj(x)?.code)));
  if (codeOf(r.code, LOINC) === BLOOD_GROUP_LOINC) return bloodGroupOf(r, externalId, source);
  if (categories.includes('social-history')) {
    const lifestyle = lifestyleOf(r, externalId, source);
    if (lifestyle) return lifestyle;
  }
  if (!categories.includes('vital-signs'))
    return skip(`category ${categories.filter(Boolean).join(',') || 'none'}: only vital signs are imported`);
  if (!externalId) return skip('no fullUrl or id: cannot be imported idempotently');
  const status = str(r.status);
  if (status && !['final', 'amended', 'corrected', 'preliminary'].includes(status))
    return skip(`status ${status}`);
  const loinc = codeOf(r.code, LOINC);
  const type = loinc ? typeByLoinc(loinc) : undefined;
  if (!loinc || !type) return skip(`LOINC ${loinc ?? '(none)'} is not a measurement type`);
  const effective = str(r.effectiveDateTime) ?? str(obj(r.effectivePeriod)?.start);
  if (!effective) return skip('no effective date');
  if (type.components) {
    const part = (code: string) => {
      const c = arr(r.component)
        .map(obj)
        .find((x) => codeOf(x?.code, LOINC) === code);
      const q = obj(c?.valueQuantity);
      return typeof q?.value === 'number'
        ? { value: q.value, unit: str(q.code) ?? str(q.unit) ?? '' }
        : undefined;
    };
    const systolic = part('8480-6');
    const diastolic = part('8462-4');
    if (type.id !== 'blood_pressure' || !systolic || !diastolic)
      return skip('a panel without its systolic and diastolic values');
    return {
      kind: 'blood-pressure',
      resourceType,
      item: { externalId, source, effective, systolic, diastolic },
    };
  }
  const q = obj(r.valueQuantity);
  if (typeof q?.value !== 'number') return skip('no numeric valueQuantity');
  return {
    kind: 'measurement',
    resourceType,
    // Whole-number types (pain score, steps…): a fractional source value (Synthea's pain) is rounded.
    item: {
      loinc,
      value: type.integer ? Math.round(q.value) : q.value,
      unit: str(q.code) ?? str(q.unit) ?? '',
      effective,
      externalId,
      source,
    },
  };
}

type ProfileOf = (section: string, fields: Record<string, unknown>) => Mapped;

/** A Condition the synthesis Bundle emits for a disability (category text 'disability'). */
function isDisability(r: Res): boolean {
  return arr(r.category).some((c) => str(obj(c)?.text)?.toLowerCase() === 'disability');
}

/** Disability: type and description from the code's text (`disability: <type> — <description>`), band and help from the extensions. */
function disabilityOf(r: Res, profile: ProfileOf): Mapped {
  const text = str(obj(r.code)?.text) ?? '';
  const m = /^disability:\s*([a-z]+)(?:\s+—\s+([\s\S]+))?$/i.exec(text);
  const type = m?.[1]?.toLowerCase() ?? '';
  const description = m ? str(m[2]) : str(text);
  const ext = (name: string) =>
    arr(r.extension)
      .map(obj)
      .find((x) => x?.url === `${DISABILITY_EXT}${name}`);
  const band = str(ext('rate-band')?.valueCode) ?? '';
  return profile('disabilities', {
    type: DISABILITY_TYPES.includes(type) ? type : 'other',
    ...(description ? { description: clip(description, 500) } : {}),
    rateBand: RATE_BANDS.includes(band) ? band : 'unknown',
    humanHelp: ext('human-help')?.valueBoolean === true,
    ...noteOf(r),
  });
}

const BLOOD_GROUP_LOINC = '882-1';

const profileItem = (
  r: Res,
  externalId: string,
  source: string,
  section: string,
  fields: Record<string, unknown>,
): Mapped => ({
  kind: 'profile',
  resourceType: r.resourceType,
  item: { section, fields, externalId, source },
});

/** Blood group (LOINC 882-1): ABO and rhesus read from the value's text or display (e.g. 'O Rh-', 'AB Rh+'). */
function bloodGroupOf(r: Res, externalId: string | undefined, source: string): Mapped {
  const skip = (reason: string): Mapped => ({ kind: 'skip', resourceType: r.resourceType, reason });
  if (!externalId) return skip('no fullUrl or id: cannot be imported idempotently');
  const status = str(r.status);
  if (status && !['final', 'amended', 'corrected'].includes(status)) return skip(`status ${status}`);
  const value = obj(r.valueCodeableConcept);
  const texts = [str(value?.text), ...arr(value?.coding).map((c) => str(obj(c)?.display))].filter(Boolean);
  for (const t of texts) {
    const m = /^\s*(AB|A|B|O)\s*(?:Rh(?:\(D\))?)?\s*([+-]|pos(?:itive)?|neg(?:ative)?)\s*$/i.exec(t ?? '');
    if (m?.[1] && m[2])
      return profileItem(r, externalId, source, 'blood-group', {
        abo: m[1].toUpperCase(),
        rhesus: m[2].startsWith('+') || /^pos/i.test(m[2]) ? 'positive' : 'negative',
      });
  }
  return skip('blood group value not understood (expected e.g. "O Rh-")');
}

const LIFESTYLE_TOPIC: Readonly<Record<string, string>> = {
  '72166-2': 'tobacco',
  '11331-6': 'alcohol',
  '73985-4': 'activity',
  '61144-2': 'food',
  '93832-4': 'sleep',
};
const LIFESTYLE_TOPICS = ['food', 'activity', 'sleep', 'screens', 'alcohol', 'tobacco'];

/**
 * Social-history Observation → lifestyle, when its topic is known (LOINC code, or the code's text
 * being a topic) and its value a string. The synthesis Bundle writes `<description> — <quantity>`:
 * the text after the last ' — ' comes back as the quantity. Other social-history Observations
 * give undefined (skipped by the caller with the category reason).
 */
function lifestyleOf(r: Res, externalId: string | undefined, source: string): Mapped | undefined {
  const code = obj(r.code);
  const text = str(code?.text);
  const topic =
    LIFESTYLE_TOPIC[codeOf(code, LOINC) ?? ''] ??
    (text && LIFESTYLE_TOPICS.includes(text) ? text : undefined);
  const value = str(r.valueString);
  if (!topic || !value || !externalId) return undefined;
  const cut = value.lastIndexOf(' — ');
  const quantity = cut > 0 ? str(value.slice(cut + 3)) : undefined;
  const description = quantity && quantity.length <= 200 ? value.slice(0, cut).trim() : value;
  return profileItem(r, externalId, source, 'lifestyle', {
    topic,
    description: clip(description, 500),
    ...(quantity && quantity.length <= 200 ? { quantity } : {}),
    ...noteOf(r),
  });
}
