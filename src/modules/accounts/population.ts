import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db/database.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { insertRepresentationsBulk, type BulkRepresentation } from '../access/index.ts';
import { recordAuditEvent } from '../audit/index.ts';
import {
  findPatientTraitsByIns,
  findPatientsByMatricules,
  insertPatientsBulk,
  majorityAt,
  type BulkPatient,
} from '../identity/index.ts';
import { CsvReader, csvField, type CsvRecord } from './population-csv.ts';
import { checkRow, eighteenthBirthday, headerIndex, type Column, type PersonRow } from './population-row.ts';
import * as repo from './population.repository.ts';

/**
 * The insurer's population file (DOMAIN §2): every insured person gets a space unless they oppose.
 * The file is streamed (memory does not grow with it) and written in batches, one transaction
 * each, with multi-row inserts; a batch the database refuses is retried row by row, so one bad row
 * never stops the import nor half-writes. Re-running a file changes nothing: people already present
 * (same INS) are counted, not touched.
 *
 * Each new adult: pending space and 6-week opposition window; the notice job then makes their
 * provisional code (keyed hash only) and the 'provisioning' notice carrying it
 * (notices.ts issueProvisioningNotices), so the import writes one row per person. Each child (parent_matricule): an open
 * profile declared by the parent, who represents them until majority.
 */

export const OPPOSITION_DAYS = 42;
const DEFAULT_BATCH = 10_000;
const MAX_REJECTIONS_KEPT = 1000;
/** How many recent (INS) keys are remembered to spot duplicates inside the file. */
const RECENT_KEYS = 100_000;

export interface Rejection {
  readonly line: number;
  readonly matricule: string;
  readonly reason: string;
}

export interface ImportCounts {
  /** Data rows read (the header excluded). */
  read: number;
  /** New people (adults and children). */
  created: number;
  /** Of which children. */
  children: number;
  alreadyPresent: number;
  rejected: number;
  /** Rows accepted with a warning (e.g. a wrong INS key under a configured test OID). */
  warnings: number;
}

export interface ImportSummary extends ImportCounts {
  readonly importId: string;
  /** The first rejections (all of them go to `report`). */
  readonly rejections: Rejection[];
}

export interface ImportOptions {
  /** Called after each batch. */
  onProgress?: (counts: Readonly<ImportCounts>) => void;
  /** Receives every rejection as CSV (`line,matricule,reason`, with a header row). */
  report?: NodeJS.WritableStream;
  /** A name for the run record (the file name). */
  source?: string;
  batchSize?: number;
}

/** Remembers the last keys seen, in two generations, so memory stays bounded. */
class RecentKeys {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  get(key: string): number | undefined {
    return this.current.get(key) ?? this.previous.get(key);
  }
  set(key: string, line: number): void {
    if (this.current.size >= this.limit) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, line);
  }
}

interface BatchOutcome {
  created: number;
  children: number;
  alreadyPresent: number;
  rejections: Rejection[];
}

function parisToday(now: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(now);
}

const sameText = (a: string, b: string) => a.localeCompare(b, 'fr', { sensitivity: 'base' }) === 0;

/**
 * Imports a population file (CSV text, chunk by chunk — a file stream, or strings in tests).
 * @example await importPopulation(ctx, createReadStream('people.csv'), { report })
 */
export async function importPopulation(
  ctx: Ctx,
  input: AsyncIterable<string | Uint8Array>,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const importId = uuidv7(ctx.clock.now().getTime());
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const counts: ImportCounts = {
    read: 0,
    created: 0,
    children: 0,
    alreadyPresent: 0,
    rejected: 0,
    warnings: 0,
  };
  const kept: Rejection[] = [];
  const report = options.report;
  report?.write('line,matricule,reason\n');
  const reject = (r: Rejection): void => {
    counts.rejected++;
    if (kept.length < MAX_REJECTIONS_KEPT) kept.push(r);
    report?.write(`${r.line},${csvField(r.matricule)},${csvField(r.reason)}\n`);
  };
  await repo.startImportRun(ctx.rootDb, importId, options.source ?? 'stream', ctx.clock.now());

  const testOids = ctx.config.testInsOids;
  const reader = new CsvReader();
  const decoder = new TextDecoder('utf-8');
  const recent = new RecentKeys(RECENT_KEYS);
  let header: { index: Record<Column, number>; width: number } | undefined;
  let today = parisToday(ctx.clock.now());
  let batch: PersonRow[] = [];
  let inflight: Promise<void> | undefined;

  const onRecord = (record: CsvRecord): void => {
    if (!header) {
      if (record.error !== undefined)
        throw new Error(`line ${record.line}: the header row is broken: ${record.error}`);
      const h = headerIndex(record.fields);
      header = { index: h.index, width: record.fields.length };
      reader.width = header.width;
      return;
    }
    counts.read++;
    if (record.error !== undefined) {
      reject({ line: record.line, matricule: '', reason: `broken CSV: ${record.error}` });
      return;
    }
    const check = checkRow(record.fields, header, record.line, { testOids, today });
    if (!check.ok) {
      reject({ line: record.line, matricule: check.matricule, reason: check.reason });
      return;
    }
    const row = check.row;
    const key = `${row.oid}|${row.matricule}`;
    const first = recent.get(key);
    if (first !== undefined) {
      reject({ line: row.line, matricule: row.matricule, reason: `duplicate of line ${first} (same INS)` });
      return;
    }
    recent.set(key, row.line);
    if (row.warnings.length > 0) counts.warnings++;
    batch.push(row);
  };

  const apply = (o: BatchOutcome): void => {
    counts.created += o.created;
    counts.children += o.children;
    counts.alreadyPresent += o.alreadyPresent;
    for (const r of o.rejections) reject(r);
    options.onProgress?.(counts);
  };

  const send = async (rows: PersonRow[]): Promise<void> => {
    // The CPU work (ids) overlaps the previous batch's writes.
    const prepared = prepare(ctx.clock.now(), rows);
    await inflight;
    today = parisToday(ctx.clock.now());
    const p = writeBatch(ctx, prepared).then(apply);
    p.catch(() => undefined); // awaited by the next send or at the end
    inflight = p;
  };

  for await (const chunk of input) {
    reader.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }), onRecord);
    while (batch.length >= batchSize) {
      const rows = batch.slice(0, batchSize);
      batch = batch.slice(batchSize);
      await send(rows);
    }
  }
  reader.push(decoder.decode(), onRecord);
  reader.end(onRecord);
  if (!header) throw new Error('the file is empty: a header row is required');
  if (batch.length > 0) await send(batch);
  await inflight;

  const at = ctx.clock.now();
  await ctx.rootDb.transaction().execute(async (tx) => {
    await repo.finishImportRun(tx, importId, at, counts);
    await recordAuditEvent(tx, {
      patientId: null,
      recordedAt: at,
      actor: {
        kind: 'system',
        id: null,
        display: 'Carnet (import de la population)',
        organizationId: null,
        clientId: null,
      },
      action: 'create',
      entity: { type: 'PopulationImport', id: importId },
      outcome: 'success',
      basis: null,
      reason: null,
      requestId: null,
      details: { source: options.source ?? 'stream', ...counts },
    });
  });
  return { importId, ...counts, rejections: kept };
}

/**
 * Writes one batch in one transaction; when the database refuses it (a row breaking a constraint
 * no check foresaw), nothing of it stays and the rows are written one by one.
 */
async function writeBatch(ctx: Ctx, rows: Prepared[]): Promise<BatchOutcome> {
  try {
    return await ctx.rootDb.transaction().execute((tx) => writeRows(ctx, tx, rows));
  } catch (error) {
    if (!rowFault(error)) throw error; // the database is unreachable or failing: stop, re-run later
    if (rows.length === 1) {
      const row = (rows[0] as Prepared).row;
      const message = error instanceof Error ? error.message : String(error);
      ctx.log.warn({ err: error, line: row.line }, 'population row refused by the database');
      return {
        created: 0,
        children: 0,
        alreadyPresent: 0,
        rejections: [
          { line: row.line, matricule: row.matricule, reason: `refused by the database: ${message}` },
        ],
      };
    }
    const total: BatchOutcome = { created: 0, children: 0, alreadyPresent: 0, rejections: [] };
    for (const row of rows) {
      const o = await writeBatch(ctx, [row]);
      total.created += o.created;
      total.children += o.children;
      total.alreadyPresent += o.alreadyPresent;
      total.rejections.push(...o.rejections);
    }
    return total;
  }
}

/**
 * Whether a database error is about the data of a row (SQLSTATE class 22 data exception, 23
 * integrity constraint, P0 raised by a trigger) rather than the database itself.
 */
function rowFault(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  return /^(22|23|P0)/.test(code);
}

const majorityCache = new Map<string, Date>();
function majorityOf(birthDate: string): Date {
  let at = majorityCache.get(birthDate);
  if (!at) {
    if (majorityCache.size > 20_000) majorityCache.clear();
    at = majorityAt(birthDate);
    majorityCache.set(birthDate, at);
  }
  return at;
}

/** A row with its new id, made before the transaction. */
interface Prepared {
  row: PersonRow;
  id: string;
}

function prepare(now: Date, rows: readonly PersonRow[]): Prepared[] {
  const nowMs = now.getTime();
  return rows.map((row) => ({ row, id: uuidv7(nowMs) }));
}

async function writeRows(ctx: Ctx, tx: Queryable, batch: readonly Prepared[]): Promise<BatchOutcome> {
  const now = ctx.clock.now();
  const today = parisToday(now);
  const deadline = new Date(now.getTime() + OPPOSITION_DAYS * 86_400_000);
  const rejections: Rejection[] = [];
  await repo.relaxCommitDurability(tx);

  const parentMatricules = [
    ...new Set(batch.flatMap((p) => (p.row.parentMatricule ? [p.row.parentMatricule] : []))),
  ];
  const inDb = new Map<string, Array<{ id: string; oid: string; birthDate: string }>>();
  for (const p of await findPatientsByMatricules(tx, parentMatricules)) {
    const list = inDb.get(p.ins_matricule) ?? [];
    list.push({ id: p.id, oid: p.ins_oid, birthDate: p.birth_date });
    inDb.set(p.ins_matricule, list);
  }

  const inBatch = new Map<string, { id: string; line: number }>();
  const people: BulkPatient[] = [];
  const accepted: Prepared[] = [];
  for (const p of batch) {
    const row = p.row;
    let declaredBy: string | null = null;
    if (row.parentMatricule !== null) {
      const candidates = inDb.get(row.parentMatricule);
      const known = candidates?.find((c) => c.oid === row.oid) ?? candidates?.[0];
      if (known) {
        if (eighteenthBirthday(known.birthDate) > today) {
          rejections.push({
            line: row.line,
            matricule: row.matricule,
            reason: `parent ${row.parentMatricule} is a minor`,
          });
          continue;
        }
        declaredBy = known.id;
      } else {
        const earlier = inBatch.get(row.parentMatricule);
        if (!earlier || earlier.line > row.line) {
          rejections.push({
            line: row.line,
            matricule: row.matricule,
            reason: `unknown parent ${row.parentMatricule} (neither in the database nor earlier in the file)`,
          });
          continue;
        }
        declaredBy = earlier.id;
      }
    } else {
      inBatch.set(row.matricule, { id: p.id, line: row.line });
    }
    const child = declaredBy !== null;
    accepted.push(p);
    people.push({
      id: p.id,
      matricule: row.matricule,
      oid: row.oid,
      given: row.given,
      family: row.family,
      birthDate: row.birthDate,
      sex: row.sex,
      birthplaceCode: row.birthplaceCode,
      email: row.email,
      cardSerial: row.cardSerial,
      postalAddress: row.address,
      accountStatus: child ? 'open' : 'pending',
      origin: child ? 'birth' : 'import',
      oppositionDeadline: child ? null : deadline,
      declaredBy,
      // The provisioning notice and its code are made by the notice job (issueProvisioningNotices).
      code: null,
    });
  }

  const created = await insertPatientsBulk(tx, people, now);
  const createdIndexes = new Set(created.map((c) => c.index));

  // Not created: already present. The same person (same civil traits) is fine; another is refused.
  const present = accepted.filter((_, i) => !createdIndexes.has(i)).map((p) => p.row);
  let alreadyPresent = 0;
  if (present.length > 0) {
    const traits = new Map(
      (
        await findPatientTraitsByIns(
          tx,
          present.map((r) => ({ matricule: r.matricule, oid: r.oid })),
        )
      ).map((t) => [`${t.ins_oid}|${t.ins_matricule}`, t]),
    );
    for (const row of present) {
      const t = traits.get(`${row.oid}|${row.matricule}`);
      if (
        t &&
        sameText(t.family, row.family) &&
        sameText(t.given, row.given) &&
        t.birth_date === row.birthDate &&
        t.sex === row.sex
      ) {
        alreadyPresent++;
      } else {
        rejections.push({
          line: row.line,
          matricule: row.matricule,
          reason: 'this INS is already present with other civil traits (name, birth date or sex)',
        });
      }
    }
  }

  const rules: BulkRepresentation[] = [];
  let children = 0;
  for (const c of created) {
    const person = people[c.index] as BulkPatient;
    if (person.declaredBy !== null) {
      children++;
      rules.push({
        patientId: c.id,
        personId: person.declaredBy,
        role: 'legal_representative',
        endsAt: majorityOf(person.birthDate),
      });
    }
  }
  await insertRepresentationsBulk(tx, rules, now, 'system:population-import');
  return { created: created.length, children, alreadyPresent, rejections };
}
