/**
 * FHIR Observation following ANS *Mesures de santé* (vital-signs Observations): reading an incoming
 * resource into a measurement (every refusal points at the faulty element), presenting a stored
 * measurement, search, and the device transaction Bundle (Device + Observations).
 */
import { z } from 'zod';
import { AppError, invalid } from '../errors.ts';
import type { Ctx } from '../platform/context.ts';
import type { Actor, ProfessionalActor } from '../modules/access/index.ts';
import { getPatient, resolvePatientByIns } from '../modules/identity/index.ts';
import {
  createMeasurement,
  createMeasurements,
  listMeasurements,
  readMeasurementById,
  typeById,
  typeByLoinc,
  type Measurement,
  type NewMeasurement,
  type RawValue,
} from '../modules/measurements/index.ts';
import {
  codeableConceptSchema,
  fhirDateTime,
  identifierSchema,
  insFromToken,
  parseShape,
  readInsReference,
  referenceSchema,
  type CodeableConcept,
  type FhirResource,
  type InsRef,
} from './common.ts';
import type { RawQuery } from './search-params.ts';

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const ACCEPTED_STATUS = ['final', 'amended', 'corrected', 'preliminary'];
const LAB_TYPES = ['glucose', 'interstitial_glucose', 'hba1c', 'gmi'];

const quantitySchema = z.looseObject({
  value: z.number({ error: 'value must be a number' }).optional(),
  unit: z.string().max(100).optional(),
  system: z.string().max(200).optional(),
  code: z.string().max(100).optional(),
});
const componentSchema = z.looseObject({
  code: codeableConceptSchema,
  valueQuantity: quantitySchema.optional(),
  dataAbsentReason: codeableConceptSchema.optional(),
});
const observationSchema = z.looseObject({
  resourceType: z.literal('Observation', { error: 'resourceType must be Observation' }),
  id: z.string().max(64).optional(),
  identifier: z.array(identifierSchema).max(10).optional(),
  status: z.string().max(40),
  category: z.array(codeableConceptSchema).max(10).optional(),
  code: codeableConceptSchema,
  subject: referenceSchema.optional(),
  effectiveDateTime: z.string().max(40).optional(),
  valueQuantity: quantitySchema.optional(),
  component: z.array(componentSchema).max(10).optional(),
  note: z
    .array(z.looseObject({ text: z.string().max(2000) }))
    .max(10)
    .optional(),
  device: referenceSchema.optional(),
  extension: z
    .array(z.looseObject({ url: z.string(), valueString: z.string().max(2000).optional() }))
    .max(20)
    .optional(),
  dataAbsentReason: codeableConceptSchema.optional(),
});

export interface ParsedObservation {
  ins: InsRef;
  input: NewMeasurement;
}

function loincCodes(cc: CodeableConcept): string[] {
  return (cc.coding ?? []).filter((c) => c.system === LOINC && c.code).map((c) => c.code as string);
}

function quantity(
  q: z.infer<typeof quantitySchema> | undefined,
  part: string,
  path: string,
  unitOptional: boolean,
): RawValue {
  if (!q) throw invalid(`${path} is required`, path);
  if (typeof q.value !== 'number') throw invalid(`${path}.value is required`, `${path}.value`);
  if (q.code === undefined && unitOptional) {
    return { part, value: q.value, unit: undefined, valueField: `${path}.value`, unitField: `${path}.code` };
  }
  if (q.system !== UCUM) throw invalid(`${path}.system must be ${UCUM} (UCUM)`, `${path}.system`);
  if (!q.code) throw invalid(`${path}.code is required (a UCUM unit)`, `${path}.code`);
  return { part, value: q.value, unit: q.code, valueField: `${path}.value`, unitField: `${path}.code` };
}

/**
 * Reads an Observation into a measurement; `prefix` is its FHIRPath ('Observation' or
 * 'Bundle.entry[1].resource').
 */
export function readObservation(
  resource: unknown,
  prefix: string,
  testOids: readonly string[],
): ParsedObservation {
  const obs = parseShape(observationSchema, resource, prefix);
  if (!ACCEPTED_STATUS.includes(obs.status))
    throw invalid(
      `status '${obs.status}' is not recorded (accepted: ${ACCEPTED_STATUS.join(', ')})`,
      `${prefix}.status`,
    );
  const codes = loincCodes(obs.code);
  const type = codes.map((c) => typeByLoinc(c)).find((t) => t !== undefined);
  if (!type) {
    const given =
      (obs.code.coding ?? []).map((c) => `${c.system ?? '?'}|${c.code ?? '?'}`).join(', ') || 'none';
    throw invalid(
      `${prefix}.code names no measurement type Carnet records (LOINC codes of the ANS Mesures de santé types; got ${given})`,
      `${prefix}.code`,
    );
  }
  const categories = (obs.category ?? [])
    .flatMap((c) => c.coding ?? [])
    .filter((c) => c.system === OBSERVATION_CATEGORY);
  const allowed = LAB_TYPES.includes(type.id) ? ['vital-signs', 'laboratory'] : ['vital-signs'];
  if (!categories.some((c) => allowed.includes(c.code ?? '')))
    throw invalid(
      `${prefix}.category must include ${OBSERVATION_CATEGORY}#${allowed.join(' or #')}`,
      `${prefix}.category`,
    );
  const ins = readInsReference(obs.subject, `${prefix}.subject`, testOids);
  if (!obs.effectiveDateTime) {
    const other = Object.keys(obs).find((k) => k.startsWith('effective'));
    throw invalid(
      other
        ? `${prefix}.${other} is not supported: give effectiveDateTime`
        : `${prefix}.effectiveDateTime is required`,
      `${prefix}.effectiveDateTime`,
    );
  }
  const effective = fhirDateTime(obs.effectiveDateTime, `${prefix}.effectiveDateTime`);
  if (obs.dataAbsentReason)
    throw invalid(
      'A measurement without a value (dataAbsentReason) is not recorded',
      `${prefix}.dataAbsentReason`,
    );
  const raw: RawValue[] = [];
  if (type.components) {
    if (obs.valueQuantity)
      throw invalid('A panel carries its values in component, not valueQuantity', `${prefix}.valueQuantity`);
    const comps = obs.component ?? [];
    comps.forEach((c, i) => {
      const path = `${prefix}.component[${i}]`;
      const part = loincCodes(c.code)
        .map((x) => typeByLoinc(x))
        .find((t) => t && type.components?.includes(t.id));
      if (!part) throw invalid(`${path}.code is not a component of ${type.display}`, `${path}.code`);
      if (c.dataAbsentReason || !c.valueQuantity)
        throw invalid(
          `${path}.valueQuantity is required (a ${part.display} without value is not recorded)`,
          `${path}.valueQuantity`,
        );
      raw.push(quantity(c.valueQuantity, part.id, `${path}.valueQuantity`, false));
    });
    for (const p of type.components) {
      if (!raw.some((r) => r.part === p))
        throw invalid(`${prefix}.component must hold ${typeById(p)?.display ?? p}`, `${prefix}.component`);
    }
  } else {
    const other = Object.keys(obs).find((k) => k.startsWith('value') && k !== 'valueQuantity');
    if (other) throw invalid(`${prefix}.${other}: a measurement is a valueQuantity`, `${prefix}.${other}`);
    raw.push(quantity(obs.valueQuantity, type.id, `${prefix}.valueQuantity`, type.unitOptional === true));
  }
  const identifier = (obs.identifier ?? []).find((i) => i.system && i.value);
  const reason = (obs.extension ?? []).find((x) =>
    x.url.endsWith('mesures-reason-for-measurement'),
  )?.valueString;
  const comment = obs.note?.map((n) => n.text).join('\n') || reason || null;
  const device = obs.device
    ? {
        ...(obs.device.display ? { display: obs.device.display } : {}),
        ...(obs.device.reference ? { reference: obs.device.reference.slice(0, 300) } : {}),
      }
    : null;
  return {
    ins,
    input: {
      type: type.id,
      raw,
      effective,
      effectiveField: `${prefix}.effectiveDateTime`,
      comment,
      ...(identifier?.system && identifier.value
        ? { source: identifier.system.slice(0, 300), externalId: identifier.value.slice(0, 300) }
        : {}),
      ...(device ? { device } : {}),
    },
  };
}

/** A stored measurement as an Observation (canonical UCUM units). */
export function toObservation(m: Measurement, ins: InsRef, baseUrl: string): FhirResource {
  const type = typeById(m.type);
  if (!type) throw new AppError('internal', `unknown type ${m.type}`);
  const quantityOf = (part: string) => {
    const t = typeById(part);
    return { value: m.values[part], unit: t?.unit, system: UCUM, code: t?.unit };
  };
  const codeOf = (t: { loinc: string; display: string; label: { fr: string } }) => ({
    coding: [{ system: LOINC, code: t.loinc, display: t.display }],
    text: t.label.fr,
  });
  return {
    resourceType: 'Observation',
    id: m.id,
    meta: { versionId: String(m.version), lastUpdated: m.updatedAt },
    ...(m.source && m.externalId ? { identifier: [{ system: m.source, value: m.externalId }] } : {}),
    status: m.version > 1 ? 'amended' : 'final',
    category: [
      {
        coding: [{ system: OBSERVATION_CATEGORY, code: 'vital-signs', display: 'Vital Signs' }],
      },
    ],
    code: codeOf(type),
    subject: { type: 'Patient', identifier: { system: `urn:oid:${ins.oid}`, value: ins.matricule } },
    effectiveDateTime: m.effective,
    issued: m.createdAt,
    performer: [{ display: `${m.author.display} (${m.author.kind})` }],
    ...(type.components
      ? {
          component: type.components.map((p) => {
            const t = typeById(p);
            return { code: t ? codeOf(t) : { text: p }, valueQuantity: quantityOf(p) };
          }),
        }
      : { valueQuantity: quantityOf(type.id) }),
    ...(m.comment ? { note: [{ text: m.comment }] } : {}),
    ...(m.device && typeof m.device.display === 'string' ? { device: { display: m.device.display } } : {}),
    extension: [{ url: `${baseUrl}/fhir/StructureDefinition/carnet-author-kind`, valueCode: m.author.kind }],
  };
}

async function insOf(ctx: Ctx, patientId: string): Promise<InsRef> {
  const patient = await getPatient(ctx, patientId);
  if (!patient) throw new AppError('internal', 'A measurement has no patient');
  return patient.ins;
}

/** POST /Observation. */
export async function createObservation(
  ctx: Ctx,
  actor: ProfessionalActor,
  body: unknown,
): Promise<{ created: boolean; resource: FhirResource }> {
  const parsed = readObservation(body, 'Observation', ctx.config.testInsOids);
  const { patient } = await resolvePatientByIns(ctx, parsed.ins, 'Observation.subject');
  const result = await createMeasurement(ctx, actor, patient.id, parsed.input, 'Observation.code');
  return {
    created: result.created,
    resource: toObservation(result.measurement, patient.ins, ctx.config.baseUrl),
  };
}

/** GET /Observation/:id. */
export async function readObservationById(ctx: Ctx, actor: Actor, id: string): Promise<FhirResource> {
  const m = await readMeasurementById(ctx, actor, id);
  return toObservation(m, await insOf(ctx, m.patientId), ctx.config.baseUrl);
}

const SEARCH_PARAMS = new Set([
  'patient.identifier',
  'patient',
  'subject.identifier',
  'code',
  'date',
  '_count',
  '_cursor',
  '_format',
]);
export const OBSERVATION_SEARCH_PARAMS = ['patient.identifier', 'code', 'date', '_count'];

function list(raw: RawQuery, name: string): string[] {
  const v = raw[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** GET /Observation?patient.identifier=…&code=…&date=…: a searchset, newest first. */
export async function searchObservations(ctx: Ctx, actor: Actor, raw: RawQuery): Promise<FhirResource> {
  for (const name of Object.keys(raw))
    if (!SEARCH_PARAMS.has(name)) throw invalid(`Unknown or unsupported search parameter: ${name}`, name);
  const token = list(raw, 'patient.identifier')[0] ?? list(raw, 'subject.identifier')[0];
  if (!token) throw invalid('patient.identifier is required (the INS, system|value)', 'patient.identifier');
  const ins = insFromToken(token, 'patient.identifier', ctx.config.testInsOids);
  const { patient } = await resolvePatientByIns(ctx, ins, 'patient.identifier');
  const types: string[] = [];
  for (const c of list(raw, 'code').flatMap((v) => v.split(','))) {
    const bar = c.indexOf('|');
    const system = bar >= 0 ? c.slice(0, bar) : LOINC;
    const code = bar >= 0 ? c.slice(bar + 1) : c;
    const t = system === LOINC ? typeByLoinc(code) : undefined;
    types.push(t ? t.id : '__none__');
  }
  let from: Date | undefined;
  let to: Date | undefined;
  for (const d of list(raw, 'date')) {
    const m = /^(eq|ge|gt|le|lt)?(.+)$/.exec(d);
    const value = fhirDateTime(m?.[2] ?? '', 'date');
    const at = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
    const prefix = m?.[1] ?? 'eq';
    if (prefix === 'ge' || prefix === 'gt' || prefix === 'eq') from = at;
    if (prefix === 'le' || prefix === 'lt') to = at;
    if (prefix === 'eq' && value.length === 10) to = new Date(at.getTime() + 86_400_000 - 1);
    if (prefix === 'eq' && value.length > 10) to = at;
  }
  const countRaw = list(raw, '_count')[0];
  const count = countRaw === undefined ? 50 : Number(countRaw);
  if (!Number.isInteger(count) || count < 1 || count > 500)
    throw invalid('_count must be 1 to 500', '_count');
  const cursor = list(raw, '_cursor')[0];
  const known = types.filter((t) => t !== '__none__');
  const page = await listMeasurements(ctx, actor, patient.id, {
    // Only unknown codes: the search still runs (and is audited) but nothing can match.
    ...(known.length ? { types: known } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(cursor ? { cursor } : {}),
    limit: count,
  });
  const items = types.length && known.length === 0 ? [] : page.items;
  const base = `${ctx.config.baseUrl}/fhir/R4`;
  const params = Object.entries(raw).flatMap(([k, v]) =>
    k === '_cursor' || v === undefined
      ? []
      : (Array.isArray(v) ? v : [v]).map((x) => [k, x] as [string, string]),
  );
  const link = (extra: Array<[string, string]>) =>
    `${base}/Observation?${new URLSearchParams([...params, ...extra]).toString()}`;
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    meta: { lastUpdated: ctx.clock.now().toISOString() },
    ...(!cursor && !page.nextCursor ? { total: items.length } : {}),
    link: [
      { relation: 'self', url: link(cursor ? [['_cursor', cursor]] : []) },
      ...(page.nextCursor && items.length
        ? [{ relation: 'next', url: link([['_cursor', page.nextCursor]]) }]
        : []),
    ],
    entry: items.map((m) => ({
      fullUrl: `${base}/Observation/${m.id}`,
      resource: toObservation(m, patient.ins, ctx.config.baseUrl),
      search: { mode: 'match' },
    })),
  };
}

/** True for a transaction Bundle made of Observations (and Devices): the ANS device bundle. */
export function isObservationBundle(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as { resourceType?: unknown; entry?: unknown };
  if (b.resourceType !== 'Bundle' || !Array.isArray(b.entry)) return false;
  const types = b.entry.map(
    (e: unknown) => (e as { resource?: { resourceType?: unknown } } | null)?.resource?.resourceType,
  );
  return types.includes('Observation') && types.every((t) => t === 'Observation' || t === 'Device');
}

const bundleSchema = z.looseObject({
  resourceType: z.literal('Bundle'),
  type: z.literal('transaction', { error: 'type must be transaction' }),
  entry: z
    .array(
      z.looseObject({
        fullUrl: z.string().max(2000).optional(),
        resource: z.looseObject({ resourceType: z.string() }),
        request: z.looseObject({ method: z.string(), url: z.string().max(2000) }),
      }),
    )
    .min(1)
    .max(1000),
});

/**
 * The ANS device bundle: a Device and its Observations, all for one patient, stored in one
 * transaction (all or nothing). Devices are not stored as such: each Observation keeps the device's
 * name. Answers a transaction-response in the order of the request.
 */
export async function provideObservationBundle(
  ctx: Ctx,
  actor: ProfessionalActor,
  body: unknown,
): Promise<FhirResource> {
  const bundle = parseShape(bundleSchema, body, 'Bundle');
  const devices = new Map<string, string>();
  bundle.entry.forEach((e, i) => {
    if (e.resource.resourceType !== 'Device') return;
    const r = e.resource as {
      id?: unknown;
      deviceName?: Array<{ name?: unknown }>;
      manufacturer?: unknown;
      modelNumber?: unknown;
    };
    const name =
      [r.deviceName?.[0]?.name, r.manufacturer, r.modelNumber]
        .filter((x) => typeof x === 'string')
        .join(' — ') || 'Device';
    for (const key of [
      e.fullUrl,
      typeof r.id === 'string' ? r.id : undefined,
      typeof r.id === 'string' ? `Device/${r.id}` : undefined,
    ])
      if (key) devices.set(key, name.slice(0, 300));
    if (e.request.method !== 'POST')
      throw invalid('request.method must be POST', `Bundle.entry[${i}].request.method`);
  });
  let ins: InsRef | undefined;
  const planned: Array<{ index: number; input: NewMeasurement; typeField: string }> = [];
  bundle.entry.forEach((e, i) => {
    if (e.resource.resourceType !== 'Observation') return;
    const prefix = `Bundle.entry[${i}].resource`;
    if (e.request.method !== 'POST')
      throw invalid('request.method must be POST', `Bundle.entry[${i}].request.method`);
    const parsed = readObservation(e.resource, prefix, ctx.config.testInsOids);
    if (ins && (ins.oid !== parsed.ins.oid || ins.matricule !== parsed.ins.matricule))
      throw invalid('All Observations of a bundle must be about the same patient', `${prefix}.subject`);
    ins = parsed.ins;
    const ref = (e.resource as { device?: { reference?: unknown } }).device?.reference;
    const deviceName = typeof ref === 'string' ? devices.get(ref) : undefined;
    if (typeof ref === 'string' && !deviceName && !ref.startsWith('http'))
      throw invalid(`${prefix}.device.reference names no Device of the bundle`, `${prefix}.device.reference`);
    planned.push({
      index: i,
      input: { ...parsed.input, ...(deviceName ? { device: { display: deviceName } } : {}) },
      typeField: `${prefix}.code`,
    });
  });
  if (!ins) throw invalid('The bundle holds no Observation', 'Bundle.entry');
  const { patient } = await resolvePatientByIns(
    ctx,
    ins,
    `Bundle.entry[${planned[0]?.index ?? 0}].resource.subject`,
  );
  const results = await createMeasurements(
    ctx,
    actor,
    patient.id,
    planned.map((p) => ({ input: p.input, typeField: p.typeField })),
  );
  const base = `${ctx.config.baseUrl}/fhir/R4`;
  return {
    resourceType: 'Bundle',
    type: 'transaction-response',
    entry: bundle.entry.map((e, i) => {
      const at = planned.findIndex((p) => p.index === i);
      const r = at >= 0 ? results[at] : undefined;
      if (!r)
        return {
          response: {
            status: '200 OK',
            outcome: {
              resourceType: 'OperationOutcome',
              issue: [
                {
                  severity: 'information',
                  code: 'informational',
                  diagnostics: 'Device kept as the name of its measurements',
                },
              ],
            },
          },
        };
      return {
        response: {
          status: r.created ? '201 Created' : '200 OK',
          location: `${base}/Observation/${r.measurement.id}/_history/${r.measurement.version}`,
          lastModified: r.measurement.updatedAt,
        },
      };
    }),
  };
}
