/**
 * Health measurements (DOMAIN §6): entries with provenance and history, targets, series for charts,
 * growth percentiles. Every read and write goes through the access gate (entity 'Observation');
 * who may change an entry after creation is this module's rule (entries by a professional are
 * locked for the patient).
 */
import { randomUUID } from 'node:crypto';
import { AppError, invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { actorId, guarded, locateOrDeny, requireAccess, type Actor, type Grant } from '../access/index.ts';
import { getDocument } from '../documents/index.ts';
import { getPatient } from '../identity/index.ts';
import { GROWTH_TYPES, growthScore, growthTablesDir, percentileLines, type GrowthType } from './growth.ts';
import * as repo from './measurements.repository.ts';
import type { MeasurementRow } from './measurements.repository.ts';
import { checkValue, partsOf, toCanonical, typeById, typeByLoinc, type MeasurementType } from './types.ts';

export type AuthorKind = 'patient' | 'representative' | 'app' | 'professional' | 'import';

export interface Measurement {
  id: string;
  patientId: string;
  type: string;
  /** Canonical values by type id ({ weight: 70 } or { systolic: 120, diastolic: 80 }). */
  values: Record<string, number>;
  unit: string;
  effective: string;
  author: { kind: AuthorKind; id: string | null; display: string };
  comment: string | null;
  sourceDocumentId: string | null;
  source: string | null;
  externalId: string | null;
  device: Record<string, unknown> | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface RawValue {
  /** The type id of this value (the type itself, or a component of a panel). */
  part: string;
  value: number;
  unit: string | undefined;
  valueField: string;
  unitField: string;
}

export interface NewMeasurement {
  type: string;
  raw: RawValue[];
  effective: string;
  effectiveField?: string;
  comment?: string | null;
  sourceDocumentId?: string | null;
  idempotencyKey?: string;
  source?: string;
  externalId?: string;
  device?: Record<string, unknown> | null;
  /** 'import' for imports; otherwise derived from the actor. */
  authorKind?: AuthorKind;
}

export function toMeasurement(row: MeasurementRow): Measurement {
  const type = typeById(row.type);
  return {
    id: row.id,
    patientId: row.patient_id,
    type: row.type,
    values: row.values_json,
    unit: type?.unit ?? '',
    effective: row.effective,
    author: { kind: row.author_kind, id: row.author_id, display: row.author_display },
    comment: row.comment,
    sourceDocumentId: row.source_document_id,
    source: row.source,
    externalId: row.external_id,
    device: row.device,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const DATE_TIME =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/**
 * The instant of an effective date (YYYY-MM-DD, midnight UTC) or date-time with a zone; the future
 * (beyond 10 minutes of clock skew) is refused.
 */
export function effectiveInstant(ctx: Ctx, value: string, field: string): Date {
  const ok = DATE.test(value) || DATE_TIME.test(value);
  const at = new Date(DATE.test(value) ? `${value}T00:00:00Z` : value);
  if (!ok || Number.isNaN(at.getTime()))
    throw invalid(`'${value}' is not a date (YYYY-MM-DD) or a date-time with a time zone`, field);
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (
    day &&
    new Date(Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]))).getUTCDate() !== Number(day[3])
  )
    throw invalid(`'${value}' is not a real day`, field);
  if (at.getTime() > ctx.clock.now().getTime() + 10 * 60_000)
    throw invalid('The measurement is in the future', field);
  if (at.getUTCFullYear() < 1900) throw invalid('The measurement is too old', field);
  return at;
}

/**
 * Canonical values of an entry from what was given: every part of the type present once, known
 * units, plausible values (refused otherwise), usual values (warnings).
 */
export function normalizeValues(
  type: MeasurementType,
  raw: RawValue[],
  typeField: string,
): { values: Record<string, number>; warnings: string[] } {
  const values: Record<string, number> = {};
  const warnings: string[] = [];
  for (const r of raw) {
    if (!partsOf(type).includes(r.part)) throw invalid(`${r.part} is not part of ${type.id}`, r.valueField);
    if (r.part in values) throw invalid(`${r.part} is given twice`, r.valueField);
    const part = typeById(r.part);
    if (!part) throw invalid(`Unknown measurement type ${r.part}`, r.valueField);
    const unit = r.unit ?? (part.unitOptional ? part.unit : undefined);
    if (unit === undefined) throw invalid(`The unit is required (UCUM, e.g. ${part.unit})`, r.unitField);
    const checked = checkValue(part, toCanonical(part, r.value, unit, r.unitField), r.valueField);
    values[r.part] = checked.value;
    warnings.push(...checked.warnings);
  }
  for (const p of partsOf(type)) {
    if (!(p in values))
      throw invalid(`${type.id} needs a value for ${p}`, type.components ? `${typeField}.${p}` : typeField);
  }
  return { values, warnings };
}

function authorOf(actor: Actor): { kind: AuthorKind; id: string | null; display: string } {
  switch (actor.kind) {
    case 'patient':
    case 'representative':
    case 'app':
    case 'professional':
      return { kind: actor.kind, id: actorId(actor), display: actor.display };
    default:
      return { kind: 'import', id: actorId(actor), display: actor.display };
  }
}

async function checkSourceDocument(ctx: Ctx, actor: Actor, patientId: string, id: string): Promise<void> {
  const bad = () => invalid('The source document is not one of this person’s documents', 'sourceDocumentId');
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw bad();
  try {
    const meta = await getDocument(ctx, actor, id);
    if (meta.patientId !== patientId) throw bad();
  } catch (err) {
    if (err instanceof AppError && (err.code === 'not_found' || err.code === 'forbidden')) throw bad();
    throw err;
  }
}

export interface CreateResult {
  measurement: Measurement;
  created: boolean;
  warnings: string[];
}

/**
 * The checks of an entry that need no storage (type, parts, units, plausible values, date): throws
 * the same invalid_input errors as creating it would, before anything is written. Lets a caller
 * sort out refused entries before a transaction that must not fail (e.g. a FHIR Bundle import).
 * @example validateMeasurement(ctx, input, 'code'); // throws AppError('invalid_input', …, field)
 */
export function validateMeasurement(
  ctx: Ctx,
  input: NewMeasurement,
  typeField: string,
): { type: MeasurementType; values: Record<string, number>; warnings: string[]; effectiveAt: Date } {
  const type = typeById(input.type);
  if (!type) throw invalid(`Unknown measurement type '${input.type}'`, typeField);
  const { values, warnings } = normalizeValues(type, input.raw, typeField);
  const effectiveAt = effectiveInstant(ctx, input.effective, input.effectiveField ?? 'effective');
  return { type, values, warnings, effectiveAt };
}

/** Checks and stores one entry inside an open gate transaction (tx) under a create grant. */
async function insertChecked(
  tx: Ctx,
  grant: Grant,
  actor: Actor,
  input: NewMeasurement,
  typeField: string,
): Promise<CreateResult> {
  const { type, values, warnings, effectiveAt } = validateMeasurement(tx, input, typeField);
  const key = input.idempotencyKey
    ? { idempotencyKey: input.idempotencyKey }
    : input.source && input.externalId
      ? { source: input.source, externalId: input.externalId }
      : undefined;
  if (key) {
    const existing = await repo.findByKey(tx.db, grant, key);
    if (existing) return { measurement: toMeasurement(existing), created: false, warnings: [] };
  }
  const author =
    input.authorKind === 'import' ? { ...authorOf(actor), kind: 'import' as const } : authorOf(actor);
  const now = tx.clock.now();
  const id = randomUUID();
  await repo.insertMeasurement(tx.db, grant, {
    id,
    type: type.id,
    values,
    effective: input.effective,
    effective_at: effectiveAt,
    author_kind: author.kind,
    author_id: author.id,
    author_display: author.display.slice(0, 300),
    comment: input.comment ?? null,
    source_document_id: input.sourceDocumentId ?? null,
    source: input.source ?? null,
    external_id: input.externalId ?? null,
    idempotency_key: input.idempotencyKey ?? null,
    device: input.device ?? null,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  });
  await repo.insertChange(tx.db, grant, {
    measurementId: id,
    version: 1,
    action: 'create',
    at: now,
    actor: changeActor(actor),
    before: null,
  });
  const row = await repo.findMeasurement(tx.db, grant, id);
  if (!row) throw new AppError('internal', 'measurement vanished');
  return { measurement: toMeasurement(row), created: true, warnings };
}

/**
 * Records one measurement (idempotent by Idempotency-Key, or by source and external id).
 *
 * @example await createMeasurement(ctx, actor, patientId, { type: 'weight', raw: [{ part: 'weight', value: 70, unit: 'kg', valueField: 'value', unitField: 'unit' }], effective: '2026-11-20' })
 */
export async function createMeasurement(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  input: NewMeasurement,
  typeField = 'type',
): Promise<CreateResult> {
  if (input.sourceDocumentId) await checkSourceDocument(ctx, actor, patientId, input.sourceDocumentId);
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'create',
      entity: { type: 'Observation' },
      details: { measurementType: input.type },
    });
    return insertChecked(tx, grant, actor, input, typeField);
  });
}

/** Several entries in one transaction (a device bundle): all or nothing. */
export async function createMeasurements(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  inputs: Array<{ input: NewMeasurement; typeField: string }>,
): Promise<CreateResult[]> {
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'create',
      entity: { type: 'Observation' },
      details: { count: inputs.length },
    });
    const out: CreateResult[] = [];
    for (const { input, typeField } of inputs)
      out.push(await insertChecked(tx, grant, actor, input, typeField));
    return out;
  });
}

export interface ImportItem {
  loinc: string;
  value: number;
  unit: string;
  effective: string;
  externalId: string;
  source: string;
}

/**
 * Imports measurements (author kind 'import'), idempotent by (patient, source, externalId). Items whose
 * LOINC code is not a measurement type, or whose value is refused, are skipped with the reason.
 */
export async function importMeasurements(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  items: ImportItem[],
): Promise<{ imported: number; unchanged: number; skipped: Array<{ externalId: string; reason: string }> }> {
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'create',
      entity: { type: 'Observation' },
      details: { import: items.length },
    });
    let imported = 0;
    let unchanged = 0;
    const skipped: Array<{ externalId: string; reason: string }> = [];
    for (const item of items) {
      const type = typeByLoinc(item.loinc);
      if (!type || type.components) {
        skipped.push({
          externalId: item.externalId,
          reason: `LOINC ${item.loinc} is not a measurement type`,
        });
        continue;
      }
      try {
        const r = await insertChecked(
          tx,
          grant,
          actor,
          {
            type: type.id,
            raw: [
              { part: type.id, value: item.value, unit: item.unit, valueField: 'value', unitField: 'unit' },
            ],
            effective: item.effective,
            source: item.source,
            externalId: item.externalId,
            authorKind: 'import',
          },
          'loinc',
        );
        if (r.created) imported++;
        else unchanged++;
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'invalid_input') throw err;
        skipped.push({ externalId: item.externalId, reason: err.message });
      }
    }
    return { imported, unchanged, skipped };
  });
}

export interface ListQuery {
  types?: string[];
  from?: Date;
  to?: Date;
  cursor?: string;
  limit?: number;
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = new Date(at ?? '');
  if (!id || Number.isNaN(date.getTime())) throw invalid('Invalid cursor', 'cursor');
  return { at: date, id };
}

function checkTypes(types: string[] | undefined, field: string): string[] | undefined {
  if (!types) return undefined;
  for (const t of types) if (!typeById(t)) throw invalid(`Unknown measurement type '${t}'`, field);
  return types;
}

/** Entries of a person, newest first, by pages. */
export async function listMeasurements(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  q: ListQuery = {},
): Promise<{ items: Measurement[]; nextCursor: string | null }> {
  const types = checkTypes(q.types, 'type');
  const limit = Math.min(Math.max(q.limit ?? 100, 1), 500);
  const before = q.cursor ? decodeCursor(q.cursor) : undefined;
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'search',
      entity: { type: 'Observation' },
    });
    const rows = await repo.listRows(tx.db, grant, {
      ...(types ? { types } : {}),
      ...(q.from ? { from: q.from } : {}),
      ...(q.to ? { to: q.to } : {}),
      ...(before ? { before } : {}),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor =
      rows.length > limit && last
        ? Buffer.from(`${last.effective_at.toISOString()}|${last.id}`).toString('base64url')
        : null;
    return { items: page.map(toMeasurement), nextCursor };
  });
}

/** One entry, with its history of changes. */
export async function getMeasurement(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  id: string,
): Promise<Measurement & { history: Array<{ version: number; action: string; at: string; by: string }> }> {
  return guarded(ctx, async (tx) => {
    const { grant, row } = await loadEntry(tx, actor, patientId, id, 'read');
    const changes = await repo.listChanges(tx.db, grant, id);
    return {
      ...toMeasurement(row),
      history: changes.map((c) => ({
        version: c.version,
        action: c.action,
        at: c.changed_at.toISOString(),
        by: `${c.actor_kind}: ${c.actor_display}`,
      })),
    };
  });
}

/** Reads an entry by id alone (FHIR read): the gate decides on the record it belongs to. */
export async function readMeasurementById(ctx: Ctx, actor: Actor, id: string): Promise<Measurement> {
  const patientId = await locateOrDeny(
    ctx,
    actor,
    { type: 'Observation', id, action: 'read' },
    repo.patientOfMeasurement,
  );
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'read',
      entity: { type: 'Observation', id },
    });
    const row = await repo.findMeasurement(tx.db, grant, id);
    if (!row) throw new AppError('not_found', 'Not found');
    return toMeasurement(row);
  });
}

/** Who may change an entry after creation; throws 403 with the reason. */
function assertMayChange(actor: Actor, row: MeasurementRow): void {
  const id = actorId(actor);
  if (row.author_kind === 'professional') {
    if (actor.kind === 'professional' && row.author_id === id) return;
    throw new AppError(
      'forbidden',
      `Entered by a professional (${row.author_display}): only they can change it`,
    );
  }
  if (actor.kind === 'professional')
    throw new AppError('forbidden', 'A professional may change only the entries they entered');
  if (actor.kind === 'app' && !(row.author_kind === 'app' && row.author_id === id))
    throw new AppError('forbidden', 'An app may change only the entries it entered');
}

/** An entry of the record under the gate (entity 'Observation' with its id); 404 when absent. */
async function loadEntry(
  tx: Ctx,
  actor: Actor,
  patientId: string,
  id: string,
  action: 'read' | 'update' | 'delete',
): Promise<{ grant: Grant; row: MeasurementRow }> {
  const grant = await requireAccess(tx, actor, { patientId, action, entity: { type: 'Observation', id } });
  const row = await repo.findMeasurement(tx.db, grant, id);
  if (!row) throw new AppError('not_found', 'Not found');
  return { grant, row };
}

/** An entry about to change: gate, existence, then who may change it (assertMayChange). */
async function loadForChange(
  tx: Ctx,
  actor: Actor,
  patientId: string,
  id: string,
  action: 'update' | 'delete',
): Promise<{ grant: Grant; row: MeasurementRow }> {
  const loaded = await loadEntry(tx, actor, patientId, id, action);
  assertMayChange(actor, loaded.row);
  return loaded;
}

/** Who made a change, as the history stores it. */
function changeActor(actor: Actor): { kind: string; id: string | null; display: string } {
  return { kind: actor.kind, id: actorId(actor), display: actor.display };
}

/** The history line of a change to `row` (the next version), keeping what the entry was before. */
async function recordChange(
  tx: Ctx,
  grant: Grant,
  actor: Actor,
  row: MeasurementRow,
  action: 'update' | 'delete',
  at: Date,
): Promise<void> {
  await repo.insertChange(tx.db, grant, {
    measurementId: row.id,
    version: row.version + 1,
    action,
    at,
    actor: changeActor(actor),
    before: { values: row.values_json, effective: row.effective, comment: row.comment },
  });
}

/** What the API body gives (a value, or values for a panel, and a unit) as raw values to check. */
export function rawValues(
  typeId: string,
  body: {
    value?: number | undefined;
    values?: Record<string, number> | undefined;
    unit?: string | undefined;
  },
): RawValue[] {
  const type = typeById(typeId);
  if (!type) throw invalid(`Unknown measurement type '${typeId}'`, 'type');
  const unit = body.unit ?? type.unit;
  if (type.components) {
    if (!body.values) throw invalid(`${type.id} takes values: { ${type.components.join(', ')} }`, 'values');
    return Object.entries(body.values).map(([part, value]) => ({
      part,
      value,
      unit,
      valueField: `values.${part}`,
      unitField: 'unit',
    }));
  }
  if (body.value === undefined) throw invalid('The value is required', 'value');
  return [{ part: type.id, value: body.value, unit, valueField: 'value', unitField: 'unit' }];
}

export interface MeasurementChanges {
  given?: {
    value?: number | undefined;
    values?: Record<string, number> | undefined;
    unit?: string | undefined;
  };
  effective?: string;
  comment?: string | null;
  /** Optimistic concurrency: the version the caller saw. */
  version?: number;
}

export async function updateMeasurement(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  id: string,
  changes: MeasurementChanges,
): Promise<{ measurement: Measurement; warnings: string[] }> {
  return guarded(ctx, async (tx) => {
    const { grant, row } = await loadForChange(tx, actor, patientId, id, 'update');
    if (changes.version !== undefined && changes.version !== row.version)
      throw new AppError('conflict', 'The entry changed since you read it', 'version');
    const type = typeById(row.type);
    if (!type) throw new AppError('internal', `unknown stored type ${row.type}`);
    const normalized = changes.given
      ? normalizeValues(type, rawValues(type.id, changes.given), 'values')
      : undefined;
    const effectiveAt = changes.effective ? effectiveInstant(tx, changes.effective, 'effective') : undefined;
    const now = tx.clock.now();
    const ok = await repo.updateMeasurement(tx.db, grant, id, row.version, {
      ...(normalized ? { values: normalized.values } : {}),
      ...(changes.effective && effectiveAt ? { effective: changes.effective, effectiveAt } : {}),
      ...(changes.comment !== undefined ? { comment: changes.comment } : {}),
      updatedAt: now,
    });
    if (!ok) throw new AppError('conflict', 'The entry changed since you read it', 'version');
    await recordChange(tx, grant, actor, row, 'update', now);
    const updated = await repo.findMeasurement(tx.db, grant, id);
    if (!updated) throw new AppError('internal', 'measurement vanished');
    return { measurement: toMeasurement(updated), warnings: normalized?.warnings ?? [] };
  });
}

/** Deletes an entry (kept, marked deleted, with the change in its history). */
export async function deleteMeasurement(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  id: string,
): Promise<void> {
  await guarded(ctx, async (tx) => {
    const { grant, row } = await loadForChange(tx, actor, patientId, id, 'delete');
    const now = tx.clock.now();
    if (!(await repo.updateMeasurement(tx.db, grant, id, row.version, { deletedAt: now, updatedAt: now })))
      throw new AppError('conflict', 'The entry changed meanwhile');
    await recordChange(tx, grant, actor, row, 'delete', now);
  });
}

// ---------------------------------------------------------------- series

export interface SeriesBucket {
  start: string;
  end: string;
  count: number;
  /** By part (type id): min, max, mean of the bucket. */
  values: Record<string, { min: number; max: number; mean: number }>;
}

const SERIES_MAX_ROWS = 200_000;

/**
 * Entries of one type between two instants, downsampled into at most `points` equal time buckets
 * (min, max, mean per bucket and part); empty buckets are left out.
 */
export async function measurementSeries(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  q: { type: string; from?: Date; to?: Date; points: number },
): Promise<{
  type: string;
  unit: string;
  from: string | null;
  to: string | null;
  total: number;
  buckets: SeriesBucket[];
}> {
  const type = typeById(q.type);
  if (!type) throw invalid(`Unknown measurement type '${q.type}'`, 'type');
  if (!Number.isInteger(q.points) || q.points < 1 || q.points > 500)
    throw invalid('points must be 1 to 500', 'points');
  if (q.from && q.to && q.from > q.to) throw invalid('from is after to', 'from');
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'search',
      entity: { type: 'Observation' },
    });
    const rows = await repo.listRows(tx.db, grant, {
      types: [type.id],
      ...(q.from ? { from: q.from } : {}),
      ...(q.to ? { to: q.to } : {}),
      limit: SERIES_MAX_ROWS,
      ascending: true,
    });
    const first = rows[0];
    const last = rows[rows.length - 1];
    const start = (q.from ?? first?.effective_at)?.getTime();
    const end = (q.to ?? last?.effective_at)?.getTime();
    if (start === undefined || end === undefined)
      return { type: type.id, unit: type.unit, from: null, to: null, total: 0, buckets: [] };
    const width = Math.max(1, (end - start + 1) / q.points);
    type Stats = { min: number; max: number; sum: number; n: number };
    const acc = new Map<number, { count: number; parts: Map<string, Stats> }>();
    for (const r of rows) {
      const index = Math.min(q.points - 1, Math.floor((r.effective_at.getTime() - start) / width));
      const bucket = acc.get(index) ?? { count: 0, parts: new Map<string, Stats>() };
      bucket.count++;
      for (const [part, v] of Object.entries(r.values_json)) {
        const p = bucket.parts.get(part) ?? { min: v, max: v, sum: 0, n: 0 };
        p.min = Math.min(p.min, v);
        p.max = Math.max(p.max, v);
        p.sum += v;
        p.n++;
        bucket.parts.set(part, p);
      }
      acc.set(index, bucket);
    }
    const buckets = [...acc.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([i, b]) => ({
        start: new Date(start + i * width).toISOString(),
        end: new Date(Math.min(end, start + (i + 1) * width)).toISOString(),
        count: b.count,
        values: Object.fromEntries(
          [...b.parts.entries()].map(([part, p]) => [
            part,
            { min: p.min, max: p.max, mean: Math.round((p.sum / p.n) * 1000) / 1000 },
          ]),
        ),
      }));
    return {
      type: type.id,
      unit: type.unit,
      from: new Date(start).toISOString(),
      to: new Date(end).toISOString(),
      total: rows.length,
      buckets,
    };
  });
}

// ---------------------------------------------------------------- targets

export interface Target {
  type: string;
  low: number | null;
  high: number | null;
  unit: string;
  since: string;
  setBy: { kind: string; id: string | null; display: string };
}

const toTarget = (r: repo.TargetRow): Target => ({
  type: r.type,
  low: r.low,
  high: r.high,
  unit: typeById(r.type)?.unit ?? '',
  since: r.since,
  setBy: { kind: r.set_by_kind, id: r.set_by_id, display: r.set_by_display },
});

export async function getTargets(ctx: Ctx, actor: Actor, patientId: string): Promise<Target[]> {
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'read',
      entity: { type: 'Observation', id: 'targets' },
    });
    return (await repo.listTargets(tx.db, grant)).map(toTarget);
  });
}

/** Replaces the targets agreed with a doctor (values in the type's canonical unit). */
export async function setTargets(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  targets: Array<{ type: string; low?: number | null; high?: number | null; since?: string }>,
): Promise<Target[]> {
  const seen = new Set<string>();
  const checked = targets.map((t, i) => {
    const field = `targets[${i}]`;
    const type = typeById(t.type);
    if (!type || type.components) throw invalid(`'${t.type}' cannot have a target`, `${field}.type`);
    if (seen.has(type.id)) throw invalid(`Two targets for ${type.id}`, `${field}.type`);
    seen.add(type.id);
    const low = t.low ?? null;
    const high = t.high ?? null;
    if (low === null && high === null) throw invalid('A target needs low, high or both', `${field}.low`);
    if (low !== null) checkValue(type, low, `${field}.low`);
    if (high !== null) checkValue(type, high, `${field}.high`);
    if (low !== null && high !== null && low > high) throw invalid('low is above high', `${field}.low`);
    if (t.since !== undefined && !DATE.test(t.since))
      throw invalid('since must be YYYY-MM-DD', `${field}.since`);
    return { type: type.id, low, high, since: t.since ?? ctx.clock.now().toISOString().slice(0, 10) };
  });
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'update',
      entity: { type: 'Observation', id: 'targets' },
    });
    const by = authorOf(actor);
    const now = tx.clock.now();
    await repo.replaceTargets(
      tx.db,
      grant,
      checked.map((t) => ({
        ...t,
        set_by_kind: by.kind,
        set_by_id: by.id,
        set_by_display: by.display.slice(0, 300),
        updated_at: now,
      })),
    );
    return (await repo.listTargets(tx.db, grant)).map(toTarget);
  });
}

// ---------------------------------------------------------------- growth

const DAY_MS = 86_400_000;

/** A child's entries of a growth type with their WHO z-score and percentile, and the percentile lines. */
export async function growthCurve(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  typeId: string,
): Promise<{
  type: GrowthType;
  unit: string;
  sex: 'M' | 'F';
  birthDate: string;
  points: Array<{
    id: string;
    effective: string;
    ageDays: number;
    value: number;
    zScore: number | null;
    percentile: number | null;
  }>;
  curves: Array<{ ageDays: number; p3: number; p15: number; p50: number; p85: number; p97: number }>;
}> {
  if (!GROWTH_TYPES.includes(typeId as GrowthType))
    throw invalid(`Growth curves exist for ${GROWTH_TYPES.join(', ')}`, 'type');
  const type = typeId as GrowthType;
  const unit = typeById(type)?.unit ?? '';
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'search',
      entity: { type: 'Observation' },
    });
    const patient = await getPatient(tx, patientId);
    if (!patient) throw new AppError('not_found', 'Not found');
    if (patient.sex !== 'M' && patient.sex !== 'F')
      throw invalid('Growth curves need the sex of the child (M or F)', 'type');
    const sex = patient.sex;
    const birth = new Date(`${patient.birthDate}T00:00:00Z`).getTime();
    const rows = await repo.listRows(tx.db, grant, { types: [type], limit: 5000, ascending: true });
    const points = rows.map((r) => {
      const ageDays = Math.floor((r.effective_at.getTime() - birth) / DAY_MS);
      const value = r.values_json[type] ?? NaN;
      const score =
        ageDays >= 0
          ? growthScore(type, sex, ageDays, value, growthTablesDir(ctx.config.growthTablesDir))
          : undefined;
      return {
        id: r.id,
        effective: r.effective,
        ageDays,
        value,
        zScore: score?.zScore ?? null,
        percentile: score?.percentile ?? null,
      };
    });
    const curves: Array<{ ageDays: number; p3: number; p15: number; p50: number; p85: number; p97: number }> =
      [];
    const nowAge = Math.floor((tx.clock.now().getTime() - birth) / DAY_MS);
    const maxAge = Math.max(nowAge, ...points.map((p) => p.ageDays));
    for (let month = 0; month * 30.4375 <= Math.min(maxAge + 92, 229 * 30.4375); month++) {
      const ageDays = Math.round(month * 30.4375);
      const lines = percentileLines(type, sex, ageDays, growthTablesDir(ctx.config.growthTablesDir));
      if (lines) curves.push({ ageDays, ...lines });
    }
    return { type, unit, sex, birthDate: patient.birthDate, points, curves };
  });
}
