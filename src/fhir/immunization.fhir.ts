/**
 * FHIR R4 Immunization ↔ the vaccination record: validation of posted resources (errors point at
 * the faulty element), presentation of entries, and the interactions behind the routes.
 */
import { z } from 'zod';
import { AppError, invalid } from '../errors.ts';
import type { Ctx } from '../platform/context.ts';
import type { Actor, ProfessionalActor } from '../modules/access/index.ts';
import { getPatient, resolvePatientByIns } from '../modules/identity/index.ts';
import {
  getVaccination,
  listVaccinations,
  productCatalogue,
  recordVaccination,
  type Vaccination,
  type VaccinationInput,
} from '../modules/vaccinations/index.ts';
import {
  cleanConcept,
  codeableConceptSchema,
  fhirDateTime,
  identifierSchema,
  insFromToken,
  parseShape,
  readInsReference,
  referenceSchema,
  remapField,
  type FhirResource,
  type InsRef,
} from './common.ts';
import type { RawQuery } from './search-params.ts';

const P = 'Immunization';
export const RPPS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.1';
export const TARGET_DISEASE_SYSTEM = 'urn:carnet:CodeSystem/target-disease';
export const AUTHOR_KIND_SYSTEM = 'urn:carnet:CodeSystem/author-kind';
const STATUSES = ['completed', 'entered-in-error', 'not-done'] as const;
const KINDS = ['primary', 'booster', 'catch-up'] as const;
export const IMMUNIZATION_SEARCH_PARAMS = ['patient.identifier', 'date', '_count'] as const;

const immunizationSchema = z.looseObject({
  resourceType: z.literal('Immunization'),
  identifier: z.array(identifierSchema).max(10).optional(),
  status: z.string(),
  statusReason: codeableConceptSchema.optional(),
  vaccineCode: codeableConceptSchema,
  patient: referenceSchema,
  occurrenceDateTime: z.string().optional(),
  occurrenceString: z.string().optional(),
  primarySource: z.boolean().optional(),
  lotNumber: z.string().max(64).optional(),
  expirationDate: z.string().optional(),
  site: codeableConceptSchema.optional(),
  route: codeableConceptSchema.optional(),
  doseQuantity: z
    .looseObject({
      value: z.number().optional(),
      unit: z.string().optional(),
      system: z.string().optional(),
      code: z.string().optional(),
    })
    .optional(),
  performer: z
    .array(z.looseObject({ function: codeableConceptSchema.optional(), actor: referenceSchema }))
    .max(10)
    .optional(),
  note: z
    .array(z.looseObject({ text: z.string().max(2000) }))
    .max(10)
    .optional(),
  isSubpotent: z.boolean().optional(),
  protocolApplied: z
    .array(
      z.looseObject({
        series: z.string().max(100).optional(),
        targetDisease: z.array(codeableConceptSchema).max(20).optional(),
        doseNumberPositiveInt: z.number().int().min(1).optional(),
        doseNumberString: z.string().optional(),
      }),
    )
    .max(5)
    .optional(),
});

export interface ParsedImmunization {
  patient: InsRef;
  input: VaccinationInput;
  externalId: { source: string; value: string } | undefined;
}

/**
 * Validates a posted Immunization. Refusals name the element (e.g. `Immunization.status`).
 *
 * @example readImmunization(body, []).input.date // '2024-10-15'
 */
export function readImmunization(body: unknown, testOids: readonly string[]): ParsedImmunization {
  if (typeof body !== 'object' || body === null || (body as { resourceType?: unknown }).resourceType !== P)
    throw invalid('The body must be an Immunization resource', `${P}.resourceType`);
  const r = parseShape(immunizationSchema, body, P);
  if (!(STATUSES as readonly string[]).includes(r.status))
    throw invalid(`status must be one of ${STATUSES.join(', ')}`, `${P}.status`);
  if (r.status === 'entered-in-error')
    throw invalid('An Immunization entered in error is not recorded', `${P}.status`);
  const vaccine = cleanConcept(r.vaccineCode);
  if (!vaccine) throw invalid('vaccineCode needs a coding with a code, or a text', `${P}.vaccineCode`);
  const coding = vaccine.coding?.[0];
  if (r.occurrenceDateTime === undefined) {
    throw invalid(
      r.occurrenceString !== undefined
        ? 'occurrenceString is not accepted: the date of the vaccination is needed (occurrenceDateTime)'
        : 'occurrence[x] is required (occurrenceDateTime)',
      `${P}.occurrence`,
    );
  }
  const date = fhirDateTime(r.occurrenceDateTime, `${P}.occurrenceDateTime`).slice(0, 10);
  if (date.length !== 10)
    throw invalid('occurrenceDateTime must give at least a full day', `${P}.occurrenceDateTime`);
  if (r.expirationDate !== undefined) fhirDateTime(r.expirationDate, `${P}.expirationDate`);
  if (r.isSubpotent === true)
    throw invalid('A subpotent dose is not recorded: it does not count as a vaccination', `${P}.isSubpotent`);
  const patient = readInsReference(r.patient, `${P}.patient`, testOids);
  const known = productCatalogue().targetDiseases;
  const protocol = r.protocolApplied?.[0];
  const targets: string[] = [];
  (protocol?.targetDisease ?? []).forEach((cc, i) => {
    for (const c of cc.coding ?? []) {
      if (c.system !== TARGET_DISEASE_SYSTEM) continue;
      if (!c.code || !(c.code in known))
        throw invalid(
          `Unknown target disease code '${c.code ?? ''}'`,
          `${P}.protocolApplied[0].targetDisease[${i}]`,
        );
      targets.push(c.code);
    }
  });
  const series = protocol?.series;
  const administering =
    r.performer?.find((p) => p.function?.coding?.some((c) => c.code === 'AP')) ?? r.performer?.[0];
  const rpps =
    administering?.actor.identifier?.system === RPPS_SYSTEM
      ? (administering.actor.identifier.value ?? null)
      : null;
  const notes = (r.note ?? []).map((n) => n.text).filter(Boolean);
  const identifier = r.identifier?.find((i) => i.value);
  const extra: Record<string, unknown> = {};
  for (const key of ['site', 'route', 'doseQuantity', 'expirationDate'] as const)
    if (r[key] !== undefined) extra[key] = r[key];
  if (r.isSubpotent !== undefined) extra.isSubpotent = r.isSubpotent;
  return {
    patient,
    input: {
      status: r.status as 'completed' | 'not-done',
      statusReason:
        r.status === 'not-done'
          ? (r.statusReason?.text ??
            r.statusReason?.coding?.[0]?.display ??
            r.statusReason?.coding?.[0]?.code ??
            null)
          : null,
      product: {
        system: coding?.system ?? null,
        code: coding?.code ?? null,
        display: vaccine.text ?? coding?.display ?? coding?.code ?? '',
      },
      targetDiseases: targets,
      date,
      lotNumber: r.lotNumber ?? null,
      vaccinator:
        administering?.actor.display || rpps
          ? { rpps, display: administering?.actor.display ?? `RPPS ${rpps ?? ''}` }
          : null,
      kind:
        series && (KINDS as readonly string[]).includes(series) ? (series as (typeof KINDS)[number]) : null,
      doseNumber: protocol?.doseNumberPositiveInt ?? null,
      comment: notes.length ? notes.join('\n') : null,
      extra: Object.keys(extra).length ? extra : null,
    },
    externalId: identifier?.value
      ? { source: `fhir:${identifier.system ?? ''}`.slice(0, 300), value: identifier.value.slice(0, 300) }
      : undefined,
  };
}

/** An entry as a FHIR Immunization, its patient by INS and its provenance as a meta tag. */
export function toImmunization(v: Vaccination, ins: InsRef): FhirResource {
  const extra = v.extra ?? {};
  const targets = v.targetDiseases.map((code) => ({
    coding: [{ system: TARGET_DISEASE_SYSTEM, code, display: productCatalogue().targetDiseases[code] }],
  }));
  return {
    resourceType: 'Immunization',
    id: v.id,
    meta: {
      versionId: String(v.version),
      lastUpdated: v.updatedAt,
      tag: [{ system: AUTHOR_KIND_SYSTEM, code: v.author.kind, display: v.author.display }],
    },
    ...(v.externalId && v.source?.startsWith('fhir:')
      ? { identifier: [{ system: v.source.slice(5) || undefined, value: v.externalId }] }
      : {}),
    status: v.status,
    ...(v.statusReason ? { statusReason: { text: v.statusReason } } : {}),
    vaccineCode: {
      ...(v.product.code
        ? { coding: [{ ...(v.product.system ? { system: v.product.system } : {}), code: v.product.code }] }
        : {}),
      text: v.product.display,
    },
    patient: { identifier: { system: `urn:oid:${ins.oid}`, value: ins.matricule } },
    occurrenceDateTime: v.date,
    recorded: v.createdAt,
    primarySource: v.author.kind === 'professional',
    ...(v.lotNumber ? { lotNumber: v.lotNumber } : {}),
    ...(typeof extra.expirationDate === 'string' ? { expirationDate: extra.expirationDate } : {}),
    ...(extra.site ? { site: extra.site } : {}),
    ...(extra.route ? { route: extra.route } : {}),
    ...(extra.doseQuantity ? { doseQuantity: extra.doseQuantity } : {}),
    ...(v.vaccinator
      ? {
          performer: [
            {
              function: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0443', code: 'AP' }] },
              actor: {
                ...(v.vaccinator.rpps
                  ? { identifier: { system: RPPS_SYSTEM, value: v.vaccinator.rpps } }
                  : {}),
                display: v.vaccinator.display,
              },
            },
          ],
        }
      : {}),
    ...(v.comment ? { note: [{ text: v.comment }] } : {}),
    ...(v.kind || v.doseNumber || targets.length
      ? {
          protocolApplied: [
            {
              ...(v.kind ? { series: v.kind } : {}),
              ...(targets.length ? { targetDisease: targets } : {}),
              ...(v.doseNumber ? { doseNumberPositiveInt: v.doseNumber } : {}),
            },
          ],
        }
      : {}),
  };
}

async function insOf(ctx: Ctx, patientId: string): Promise<InsRef> {
  const patient = await getPatient(ctx, patientId);
  if (!patient) throw new AppError('internal', 'A vaccination has no patient');
  return patient.ins;
}

/**
 * POST Immunization: recorded with the professional as author (locked for the patient). A replay
 * carrying the same identifier returns the first entry (`created: false`).
 */
export async function createImmunization(
  ctx: Ctx,
  actor: ProfessionalActor,
  body: unknown,
): Promise<{ created: boolean; resource: FhirResource }> {
  const parsed = readImmunization(body, ctx.config.testInsOids);
  const { patient } = await resolvePatientByIns(ctx, parsed.patient, `${P}.patient`);
  const input: VaccinationInput = {
    ...parsed.input,
    vaccinator: parsed.input.vaccinator ?? { rpps: actor.rpps, display: actor.display },
  };
  try {
    const { created, vaccination } = await recordVaccination(
      ctx,
      actor,
      patient.id,
      input,
      parsed.externalId ? { source: parsed.externalId.source, externalId: parsed.externalId.value } : {},
    );
    return { created, resource: toImmunization(vaccination, patient.ins) };
  } catch (err) {
    throw remapField(err, {
      date: `${P}.occurrenceDateTime`,
      'product.display': `${P}.vaccineCode`,
      'product.code': `${P}.vaccineCode.coding[0].code`,
      targetDiseases: `${P}.protocolApplied[0].targetDisease`,
      lotNumber: `${P}.lotNumber`,
      doseNumber: `${P}.protocolApplied[0].doseNumberPositiveInt`,
      comment: `${P}.note`,
      'vaccinator.display': `${P}.performer[0].actor.display`,
      'vaccinator.rpps': `${P}.performer[0].actor.identifier.value`,
    });
  }
}

/** @example const resource = await readImmunizationById(ctx, actor, id); */
export async function readImmunizationById(ctx: Ctx, actor: Actor, id: string): Promise<FhirResource> {
  const v = await getVaccination(ctx, actor, id);
  return toImmunization(v, await insOf(ctx, v.patientId));
}

function dateRange(values: string[]): { from?: string; to?: string } {
  const out: { from?: string; to?: string } = {};
  for (const raw of values) {
    const m = /^(eq|ge|gt|le|lt)?(\d{4}-\d{2}-\d{2})$/.exec(raw);
    if (!m?.[2]) throw invalid(`date '${raw}' must be [eq|ge|gt|le|lt]YYYY-MM-DD`, 'date');
    const day = m[2];
    const shift = (d: string, n: number) =>
      new Date(Date.parse(d) + n * 86_400_000).toISOString().slice(0, 10);
    switch (m[1] ?? 'eq') {
      case 'eq':
        out.from = day;
        out.to = day;
        break;
      case 'ge':
        out.from = day;
        break;
      case 'gt':
        out.from = shift(day, 1);
        break;
      case 'le':
        out.to = day;
        break;
      case 'lt':
        out.to = shift(day, -1);
        break;
    }
  }
  return out;
}

/**
 * GET Immunization?patient.identifier=<system>|<value>[&date=ge…]: a searchset of the patient's entries.
 */
export async function searchImmunizations(ctx: Ctx, actor: Actor, raw: RawQuery): Promise<FhirResource> {
  for (const key of Object.keys(raw)) {
    if (!(IMMUNIZATION_SEARCH_PARAMS as readonly string[]).includes(key) && key !== '_format')
      throw invalid(`Unknown search parameter '${key}'`, key);
  }
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const token = list(raw['patient.identifier']);
  if (token.length !== 1 || !token[0])
    throw invalid('patient.identifier is required once (the INS, system|value)', 'patient.identifier');
  const ins = insFromToken(token[0], 'patient.identifier', ctx.config.testInsOids, '1.2.250.1.213.1.4.8');
  const count = raw._count === undefined ? 100 : Number(raw._count);
  if (!Number.isInteger(count) || count < 1 || count > 500)
    throw invalid('_count must be 1 to 500', '_count');
  const { patient } = await resolvePatientByIns(ctx, ins, 'patient.identifier');
  const items = (await listVaccinations(ctx, actor, patient.id, dateRange(list(raw.date)))).slice(0, count);
  const base = `${ctx.config.baseUrl}/fhir/R4`;
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: items.length,
    entry: items.map((v) => ({
      fullUrl: `${base}/Immunization/${v.id}`,
      resource: toImmunization(v, patient.ins),
      search: { mode: 'match' },
    })),
  };
}
