import { AppError, invalid } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { uuidv7 } from '../../platform/ids.ts';
import {
  actorId,
  guarded,
  locateOrDeny,
  requireAccess,
  type Actor,
  type Grant,
  type ProfessionalActor,
} from '../access/index.ts';
import { getPatient } from '../identity/index.ts';
import {
  dueVaccinations,
  loadCalendar,
  productCatalogue,
  targetsOfProduct,
  type DueVaccination,
} from './calendar.ts';
import * as repo from './vaccination.repository.ts';
import {
  authorKindOf,
  changeRefusal,
  type Vaccination,
  type VaccinationChanges,
  type VaccinationInput,
} from './vaccination.ts';

/** The vaccination record: every path goes through the access gate (entity 'Immunization'). */

const ENTITY = 'Immunization';
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function toVaccination(row: repo.VaccinationRow | repo.NewVaccinationRow): Vaccination {
  return {
    id: row.id,
    patientId: row.patient_id,
    status: row.status,
    statusReason: row.status_reason,
    product: { system: row.product_system, code: row.product_code, display: row.product_display },
    targetDiseases: row.target_diseases,
    date: row.occurred_on,
    lotNumber: row.lot_number,
    vaccinator: row.vaccinator_display
      ? { rpps: row.vaccinator_rpps, display: row.vaccinator_display }
      : null,
    kind: row.kind,
    doseNumber: row.dose_number,
    comment: row.comment,
    author: { kind: row.author_kind, id: row.author_id, display: row.author_display },
    confirmed: row.confirmed_at
      ? {
          at: new Date(row.confirmed_at).toISOString(),
          byId: row.confirmed_by_id,
          byDisplay: row.confirmed_by_display ?? '',
        }
      : null,
    source: row.source,
    externalId: row.external_id,
    extra: row.extra,
    version: row.version,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    locked: row.author_kind === 'professional' || row.confirmed_at !== null,
  };
}

function text(value: string | null | undefined, max: number, field: string): string | null {
  if (value === undefined || value === null) return null;
  const v = value.trim();
  if (v.length > max) throw invalid(`${field} is at most ${max} characters`, field);
  return v === '' ? null : v;
}

/** Checks an entry's content and fills its targets from the product catalogue when none are given. */
function normalize(input: VaccinationInput, today: string) {
  const display = text(input.product.display, 300, 'product.display');
  if (!display) throw invalid('The product (vaccine name) is required', 'product.display');
  if (!ISO_DATE.test(input.date) || Number.isNaN(Date.parse(input.date)))
    throw invalid('date must be an ISO date (YYYY-MM-DD)', 'date');
  if (input.date > today) throw invalid('A vaccination date cannot be in the future', 'date');
  const known = productCatalogue().targetDiseases;
  const targets = input.targetDiseases?.length
    ? [...new Set(input.targetDiseases)]
    : targetsOfProduct(input.product.system ?? null, input.product.code ?? null);
  const unknown = targets.find((t) => !(t in known));
  if (unknown)
    throw invalid(
      `Unknown targeted disease '${unknown}'; expected one of ${Object.keys(known).join(', ')}`,
      'targetDiseases',
    );
  if (
    input.doseNumber !== undefined &&
    input.doseNumber !== null &&
    (!Number.isInteger(input.doseNumber) || input.doseNumber < 1 || input.doseNumber > 20)
  )
    throw invalid('doseNumber must be an integer from 1 to 20', 'doseNumber');
  const vaccinatorDisplay = text(input.vaccinator?.display, 200, 'vaccinator.display');
  const rpps = text(input.vaccinator?.rpps, 20, 'vaccinator.rpps');
  if (rpps && !/^\d{11}$/.test(rpps)) throw invalid('vaccinator.rpps must be 11 digits', 'vaccinator.rpps');
  return {
    status: input.status ?? 'completed',
    status_reason: text(input.statusReason, 500, 'statusReason'),
    product_system: text(input.product.system, 500, 'product.system'),
    product_code: text(input.product.code, 100, 'product.code'),
    product_display: display,
    target_diseases: targets,
    occurred_on: input.date,
    lot_number: text(input.lotNumber, 64, 'lotNumber'),
    vaccinator_rpps: vaccinatorDisplay ? rpps : null,
    vaccinator_display: vaccinatorDisplay,
    kind: input.kind ?? null,
    dose_number: input.doseNumber ?? null,
    comment: text(input.comment, 2000, 'comment'),
  } as const;
}

function today(ctx: Ctx): string {
  return ctx.clock.now().toISOString().slice(0, 10);
}

async function writeChange(
  tx: Ctx,
  grant: Grant,
  actor: Actor,
  row: repo.NewVaccinationRow,
  change: 'create' | 'update' | 'confirm' | 'delete',
): Promise<void> {
  const { idempotency_key: _k, ...snapshot } = row;
  await repo.insertChange(tx.db, grant, {
    vaccinationId: row.id,
    version: row.version,
    change,
    at: tx.clock.now(),
    actorKind: authorKindOf(actor),
    actorId: actorId(actor),
    actorDisplay: actor.display,
    snapshot: {
      ...snapshot,
      created_at: new Date(row.created_at).toISOString(),
      updated_at: new Date(row.updated_at).toISOString(),
      confirmed_at: row.confirmed_at ? new Date(row.confirmed_at).toISOString() : null,
      deleted_at: row.deleted_at ? new Date(row.deleted_at).toISOString() : null,
    },
  });
}

export interface RecordOptions {
  idempotencyKey?: string;
  source?: string;
  externalId?: string;
  /** Author kind override for imports. */
  asImport?: boolean;
}

async function recordIn(
  tx: Ctx,
  grant: Grant,
  actor: Actor,
  input: VaccinationInput,
  options: RecordOptions,
): Promise<{ created: boolean; vaccination: Vaccination }> {
  const existing = await repo.findByKey(tx.db, grant, options);
  if (existing) return { created: false, vaccination: toVaccination(existing) };
  const now = tx.clock.now();
  const row: repo.NewVaccinationRow = {
    patient_id: grant.patientId,
    id: uuidv7(now.getTime()),
    ...normalize(input, today(tx)),
    author_kind: options.asImport ? 'import' : authorKindOf(actor),
    author_id: actorId(actor),
    author_display: actor.display,
    confirmed_at: null,
    confirmed_by_id: null,
    confirmed_by_display: null,
    source: options.source ?? null,
    external_id: options.externalId ?? null,
    idempotency_key: options.idempotencyKey ?? null,
    extra: input.extra ?? null,
    version: 1,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  await repo.insertVaccination(tx.db, grant, row);
  await writeChange(tx, grant, actor, row, 'create');
  return { created: true, vaccination: toVaccination(row) };
}

/**
 * Records a vaccination. Replays (same Idempotency-Key, or same source and external id) return the
 * entry first created, with `created: false`.
 *
 * @example const { vaccination } = await recordVaccination(ctx, actor, patientId, { product: { display: 'ROR' }, date: '2024-05-02' });
 */
export async function recordVaccination(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  input: VaccinationInput,
  options: RecordOptions = {},
): Promise<{ created: boolean; vaccination: Vaccination }> {
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'create',
      entity: { type: ENTITY },
      details: options.source ? { source: options.source } : {},
    });
    return recordIn(tx, grant, actor, input, options);
  });
}

/**
 * Imports vaccinations (e.g. from a FHIR Bundle) with author kind 'import', idempotently by
 * (patient, source, externalId): importing twice changes nothing.
 *
 * @example await importImmunizations(ctx, actor, patientId, [{ externalId: 'imm-1', product: { display: 'ROR' }, date: '2020-01-02' }], { source: 'synthea' });
 */
export async function importImmunizations(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  items: ReadonlyArray<VaccinationInput & { externalId: string }>,
  options: { source: string },
): Promise<{ imported: number; unchanged: number; ids: string[] }> {
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'create',
      entity: { type: ENTITY },
      details: { source: options.source, import: true, count: items.length },
    });
    let imported = 0;
    const ids: string[] = [];
    for (const { externalId, ...input } of items) {
      const r = await recordIn(tx, grant, actor, input, {
        source: options.source,
        externalId,
        asImport: true,
      });
      if (r.created) imported++;
      ids.push(r.vaccination.id);
    }
    return { imported, unchanged: items.length - imported, ids };
  });
}

/** @example const items = await listVaccinations(ctx, actor, patientId); */
export async function listVaccinations(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  range: { from?: string; to?: string } = {},
): Promise<Vaccination[]> {
  return guarded(ctx, async (tx) => {
    const rows = await listIn(tx, actor, patientId, range);
    return rows;
  });
}

async function listIn(
  tx: Ctx,
  actor: Actor,
  patientId: string,
  range: { from?: string; to?: string },
): Promise<Vaccination[]> {
  const grant = await requireAccess(tx, actor, { patientId, action: 'search', entity: { type: ENTITY } });
  return (await repo.listVaccinationRows(tx.db, grant, range)).map(toVaccination);
}

function patientOrDeny(
  ctx: Ctx,
  actor: Actor,
  id: string,
  action: 'read' | 'update' | 'delete',
): Promise<string> {
  return locateOrDeny(ctx, actor, { type: ENTITY, id, action }, repo.findPatientOfVaccination);
}

/** @example const v = await getVaccination(ctx, actor, id); */
export async function getVaccination(ctx: Ctx, actor: Actor, id: string): Promise<Vaccination> {
  const patientId = await patientOrDeny(ctx, actor, id, 'read');
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, { patientId, action: 'read', entity: { type: ENTITY, id } });
    const row = await repo.findVaccination(tx.db, grant, id);
    if (!row) throw new AppError('not_found', 'Not found');
    return toVaccination(row);
  });
}

async function changeEntry(
  ctx: Ctx,
  actor: Actor,
  id: string,
  action: 'update' | 'delete',
  apply: (
    row: repo.VaccinationRow,
    tx: Ctx,
  ) => { row: repo.NewVaccinationRow; change: 'update' | 'confirm' | 'delete' },
  check: (entry: Vaccination) => string | undefined,
): Promise<Vaccination> {
  const patientId = await patientOrDeny(ctx, actor, id, action);
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, { patientId, action, entity: { type: ENTITY, id } });
    const row = await repo.findVaccination(tx.db, grant, id);
    if (!row) throw new AppError('not_found', 'Not found');
    const refusal = check(toVaccination(row));
    if (refusal) throw new AppError('forbidden', refusal);
    const next = apply(row, tx);
    await repo.replaceVaccination(tx.db, grant, next.row);
    await writeChange(tx, grant, actor, next.row, next.change);
    return toVaccination(next.row);
  });
}

/**
 * Changes an entry. Entries added or confirmed by a professional are locked for the patient (403
 * with the reason). `expectedVersion`, when given, must match (409 otherwise).
 */
export async function updateVaccination(
  ctx: Ctx,
  actor: Actor,
  id: string,
  changes: VaccinationChanges,
  expectedVersion?: number,
): Promise<Vaccination> {
  return changeEntry(
    ctx,
    actor,
    id,
    'update',
    (row, tx) => {
      const current = toVaccination(row);
      const merged: VaccinationInput = {
        status: changes.status ?? current.status,
        statusReason: changes.statusReason !== undefined ? changes.statusReason : current.statusReason,
        product: changes.product ?? current.product,
        targetDiseases: changes.targetDiseases ?? (changes.product ? [] : current.targetDiseases),
        date: changes.date ?? current.date,
        lotNumber: changes.lotNumber !== undefined ? changes.lotNumber : current.lotNumber,
        vaccinator: changes.vaccinator !== undefined ? changes.vaccinator : current.vaccinator,
        kind: changes.kind !== undefined ? changes.kind : current.kind,
        doseNumber: changes.doseNumber !== undefined ? changes.doseNumber : current.doseNumber,
        comment: changes.comment !== undefined ? changes.comment : current.comment,
      };
      return {
        row: {
          ...row,
          ...normalize(merged, today(tx)),
          version: row.version + 1,
          updated_at: tx.clock.now(),
        },
        change: 'update',
      };
    },
    (entry) => {
      if (expectedVersion !== undefined && expectedVersion !== entry.version)
        throw new AppError('conflict', `The entry changed meanwhile (version ${entry.version})`);
      return changeRefusal(entry, actor, actorId(actor));
    },
  );
}

/** Deletes an entry (kept in its history). Same locking rule as updates. */
export async function deleteVaccination(ctx: Ctx, actor: Actor, id: string): Promise<void> {
  await changeEntry(
    ctx,
    actor,
    id,
    'delete',
    (row, tx) => ({
      row: { ...row, version: row.version + 1, updated_at: tx.clock.now(), deleted_at: tx.clock.now() },
      change: 'delete',
    }),
    (entry) => changeRefusal(entry, actor, actorId(actor)),
  );
}

/**
 * A professional confirms an entry entered by the patient (or for them): it is then locked for the patient.
 *
 * @example await confirmVaccination(ctx, proActor, id);
 */
export async function confirmVaccination(
  ctx: Ctx,
  actor: ProfessionalActor,
  id: string,
): Promise<Vaccination> {
  return changeEntry(
    ctx,
    actor,
    id,
    'update',
    (row, tx) => ({
      row: {
        ...row,
        confirmed_at: tx.clock.now(),
        confirmed_by_id: actor.rpps,
        confirmed_by_display: actor.display,
        version: row.version + 1,
        updated_at: tx.clock.now(),
      },
      change: 'confirm',
    }),
    (entry) => (entry.confirmed ? 'This vaccination is already confirmed' : undefined),
  );
}

export interface VaccinationChange {
  version: number;
  change: 'create' | 'update' | 'confirm' | 'delete';
  at: string;
  actor: { kind: string; display: string };
  snapshot: Record<string, unknown>;
}

/** The history of an entry, oldest first (deleted entries keep theirs). */
export async function vaccinationHistory(ctx: Ctx, actor: Actor, id: string): Promise<VaccinationChange[]> {
  const patientId = await patientOrDeny(ctx, actor, id, 'read');
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'read',
      entity: { type: ENTITY, id },
      details: { history: true },
    });
    return (await repo.listChanges(tx.db, grant, id)).map((c) => ({
      version: c.version,
      change: c.change,
      at: new Date(c.changed_at).toISOString(),
      actor: { kind: c.actor_kind, display: c.actor_display },
      snapshot: c.snapshot,
    }));
  });
}

/**
 * Due and overdue vaccinations from the calendar in force, the birth date and the completed entries.
 *
 * @example const { items } = await listDueVaccinations(ctx, actor, patientId);
 */
export async function listDueVaccinations(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  options: { calendarDir?: string; calendarFile?: string } = {},
): Promise<{ calendar: { version: string; status: string }; items: DueVaccination[] }> {
  const calendar = loadCalendar({
    ...(options.calendarDir ? { dir: options.calendarDir } : {}),
    ...(options.calendarFile ? { file: options.calendarFile } : {}),
    ...(!options.calendarFile && ctx.config.vaccinationCalendar
      ? { file: ctx.config.vaccinationCalendar }
      : {}),
  });
  return guarded(ctx, async (tx) => {
    const entries = await listIn(tx, actor, patientId, {});
    const patient = await getPatient(tx, patientId);
    if (!patient) throw new AppError('not_found', 'Not found');
    const given = entries
      .filter((e) => e.status === 'completed')
      .map((e) => ({ date: e.date, targets: e.targetDiseases }));
    return {
      calendar: { version: calendar.version, status: calendar.status },
      items: dueVaccinations(calendar, patient.birthDate, given, today(tx)),
    };
  });
}
