import { z } from 'zod';
import { invalid } from '../../errors.ts';

/**
 * The sections of the medical profile (DOMAIN §6) and the structured fields of their entries: one
 * strict zod schema per section (an unknown field is refused, naming it). Pure: no I/O.
 */

/** 'list' sections hold any number of entries and accept "not concerned"; 'single' ones hold one current value, a new one replaces it. */
export type SectionKind = 'list' | 'single';

const text = (max = 500) => z.string().trim().min(1).max(max);
const day = z.iso.date();
const coding = z.strictObject({
  system: z.string().trim().min(1).max(200).describe('Code system (URI or OID), e.g. http://snomed.info/sct'),
  code: z.string().trim().min(1).max(64),
  display: text(300).optional(),
});
/** A thing named in words, optionally coded. */
const concept = z.strictObject({ text: text(300), coding: coding.optional() });
const note = text(2000).optional();

export const SECTION_SCHEMAS = {
  allergies: z.strictObject({
    substance: concept,
    kind: z.enum(['allergy', 'intolerance']).default('allergy'),
    category: z.enum(['food', 'medication', 'environment', 'biologic', 'other']).optional(),
    reaction: text().optional(),
    severity: z.enum(['mild', 'moderate', 'severe']).optional(),
    criticality: z.enum(['low', 'high', 'unable-to-assess']).optional(),
    since: day.optional(),
    note,
  }),
  diseases: z.strictObject({
    condition: concept,
    status: z.enum(['active', 'remission', 'resolved']).default('active'),
    since: day.optional(),
    until: day.optional(),
    note,
  }),
  treatments: z.strictObject({
    name: concept,
    dose: text(200).optional(),
    frequency: text(200).optional(),
    since: day.optional(),
    until: day.optional(),
    reason: text(300).optional(),
    note,
  }),
  hospitalisations: z.strictObject({
    kind: z.enum(['hospitalisation', 'surgery']),
    reason: concept,
    date: day,
    until: day.optional(),
    place: text(300).optional(),
    note,
  }),
  'family-history': z.strictObject({
    relationship: z.enum([
      'mother',
      'father',
      'sibling',
      'child',
      'grandparent',
      'uncle-aunt',
      'cousin',
      'other',
    ]),
    condition: concept,
    ageAtOnset: z.number().int().min(0).max(130).optional(),
    note,
  }),
  disabilities: z.strictObject({
    type: z.enum(['motor', 'sensory', 'mental', 'psychic', 'cognitive', 'multiple', 'other']),
    description: text().optional(),
    rateBand: z
      .enum(['under-50', '50-79', '80-or-more', 'unknown'])
      .describe('Recognised disability rate band (%)'),
    humanHelp: z.boolean().describe('Needs human help in daily life'),
    note,
  }),
  'blood-group': z.strictObject({
    abo: z.enum(['A', 'B', 'AB', 'O']),
    rhesus: z.enum(['positive', 'negative']),
  }),
  lifestyle: z.strictObject({
    topic: z.enum(['food', 'activity', 'sleep', 'screens', 'alcohol', 'tobacco']),
    description: text(),
    quantity: text(200).optional(),
    note,
  }),
  'advance-directives': z.strictObject({
    writtenOn: day,
    summary: text(4000).optional(),
    keptBy: text(300).optional().describe('Who holds the signed original'),
    documentId: z.uuid().optional().describe('The scanned directives, in the document vault'),
  }),
  'organ-donation': z.strictObject({
    position: z.enum(['consents', 'refuses', 'undecided']),
    registeredRefusal: z.boolean().optional().describe('Refusal registered in the national refusal register'),
    note,
  }),
  contacts: z.strictObject({
    role: z.enum(['emergency', 'trusted-person', 'caregiver', 'help']),
    name: text(200),
    relationship: text(100).optional(),
    phone: z
      .string()
      .trim()
      .regex(/^\+?[0-9 .()-]{6,20}$/, 'Expected a phone number')
      .optional(),
    email: z.email().optional(),
    note,
  }),
  'care-team': z.strictObject({
    name: text(200),
    role: text(200).describe('e.g. general practitioner, cardiologist, physiotherapist'),
    rpps: z
      .string()
      .regex(/^\d{11}$/, 'Expected an 11-digit RPPS number')
      .optional(),
    organization: text(300).optional(),
    phone: z
      .string()
      .trim()
      .regex(/^\+?[0-9 .()-]{6,20}$/, 'Expected a phone number')
      .optional(),
    note,
  }),
} as const;

export type Section = keyof typeof SECTION_SCHEMAS;
export type SectionFields<S extends Section> = z.infer<(typeof SECTION_SCHEMAS)[S]>;

export const SECTIONS = Object.keys(SECTION_SCHEMAS) as Section[];

export const SECTION_KIND: Record<Section, SectionKind> = {
  allergies: 'list',
  diseases: 'list',
  treatments: 'list',
  hospitalisations: 'list',
  'family-history': 'list',
  disabilities: 'list',
  'blood-group': 'single',
  lifestyle: 'list',
  'advance-directives': 'single',
  'organ-donation': 'single',
  contacts: 'list',
  'care-team': 'list',
};

export function isSection(value: string): value is Section {
  return Object.hasOwn(SECTION_SCHEMAS, value);
}

/** @example parseSection('allergies') // 'allergies'; throws a 400 on 'section' otherwise */
export function parseSection(value: string): Section {
  if (!isSection(value)) throw invalid(`Unknown section; expected one of ${SECTIONS.join(', ')}`, 'section');
  return value;
}

/**
 * Validates an entry's fields for its section; a 400 naming the first faulty field
 * (`<prefix>.<path>`), unknown fields included.
 * @example validateFields('blood-group', { abo: 'O', rhesus: 'negative' })
 */
export function validateFields(
  section: Section,
  fields: unknown,
  prefix = 'fields',
): Record<string, unknown> {
  const result = SECTION_SCHEMAS[section].safeParse(fields);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw invalid('Invalid fields', prefix);
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    throw invalid(`Unknown field "${key}" for section ${section}`, [prefix, ...path, key].join('.'));
  }
  const where = [prefix, ...path].join('.');
  const message =
    issue.code === 'invalid_type' && issue.input === undefined
      ? `${where} is required`
      : `${where}: ${issue.message}`;
  throw invalid(message, where);
}
