import { sql, type SelectQueryBuilder } from 'kysely';
import type { Queryable } from '../../platform/db/database.ts';
import type { Database } from '../../platform/db/schema.ts';
import { patientOfChain, type ChainedEvent } from './chain.ts';

/** SQL of the hash chain: unsealed events, chain heads, links. Only the audit module calls it. */

export interface Link {
  index: number;
  hash: Buffer;
}

export interface SealedEvent extends ChainedEvent {
  chainIndex: number;
  chainHash: Buffer | null;
}

type EventsQuery = SelectQueryBuilder<Database, 'audit_events', object>;

function selectChained(query: EventsQuery) {
  return query.select([
    'id',
    'seq',
    'patient_id',
    sql<string>`to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as(
      'recorded_at_text',
    ),
    'actor_kind',
    'actor_id',
    'actor_display',
    'actor_profession',
    'on_behalf_of',
    'organization_id',
    'client_id',
    'action',
    'entity_type',
    'entity_id',
    'outcome',
    'basis',
    'reason',
    'request_id',
    'details',
    'chain_index',
    'chain_hash',
  ]);
}

type ChainedRow = Awaited<ReturnType<ReturnType<typeof selectChained>['execute']>>[number];

function toSealed(row: ChainedRow): SealedEvent {
  return {
    id: row.id,
    seq: String(row.seq),
    patientId: row.patient_id,
    recordedAt: row.recorded_at_text,
    actorKind: row.actor_kind,
    actorId: row.actor_id,
    actorDisplay: row.actor_display,
    actorProfession: row.actor_profession,
    onBehalfOf: row.on_behalf_of,
    organizationId: row.organization_id,
    clientId: row.client_id,
    action: row.action,
    entityType: row.entity_type,
    entityId: row.entity_id,
    outcome: row.outcome,
    basis: row.basis,
    reason: row.reason,
    requestId: row.request_id,
    details: row.details,
    chainIndex: row.chain_index === null ? 0 : Number(row.chain_index),
    chainHash: row.chain_hash === null ? null : Buffer.from(row.chain_hash),
  };
}

function toLink(row: { chain_index: string | number; chain_hash: Uint8Array }): Link {
  return { index: Number(row.chain_index), hash: Buffer.from(row.chain_hash) };
}

/** Chains (by patient id, null for the no-patient chain) that have unsealed events. */
export async function listChainsWithUnsealed(db: Queryable, limit: number): Promise<Array<string | null>> {
  const rows = await db
    .selectFrom('audit_events')
    .select('patient_id')
    .distinct()
    .where('chain_index', 'is', null)
    .limit(limit)
    .execute();
  return rows.map((r) => r.patient_id);
}

/** Creates the chain's head if needed and locks it until the transaction ends. */
export async function lockHead(db: Queryable, chainKey: string, genesis: Buffer, now: Date): Promise<Link> {
  await db
    .insertInto('audit_chain_heads')
    .values({ patient_id: chainKey, chain_index: 0, chain_hash: genesis, updated_at: now })
    .onConflict((oc) => oc.column('patient_id').doNothing())
    .execute();
  const row = await db
    .selectFrom('audit_chain_heads')
    .select(['chain_index', 'chain_hash'])
    .where('patient_id', '=', chainKey)
    .forUpdate()
    .executeTakeFirstOrThrow();
  return toLink(row);
}

export async function updateHead(db: Queryable, chainKey: string, head: Link, now: Date): Promise<void> {
  await db
    .updateTable('audit_chain_heads')
    .set({ chain_index: head.index, chain_hash: head.hash, updated_at: now })
    .where('patient_id', '=', chainKey)
    .execute();
}

/** The chain's committed unsealed events, oldest first (by seq). */
export async function listUnsealed(db: Queryable, chainKey: string, limit: number): Promise<SealedEvent[]> {
  const patientId = patientOfChain(chainKey);
  let query = selectChained(db.selectFrom('audit_events'));
  query =
    patientId === null ? query.where('patient_id', 'is', null) : query.where('patient_id', '=', patientId);
  const rows = await query.where('chain_index', 'is', null).orderBy('seq').limit(limit).execute();
  return rows.map(toSealed);
}

/** Writes the links; returns how many events were still unsealed and got one. */
export async function setLinks(
  db: Queryable,
  chainKey: string,
  links: Array<{ id: string } & Link>,
): Promise<number> {
  if (links.length === 0) return 0;
  const patientId = patientOfChain(chainKey);
  const result = await sql`
    update audit_events as e
       set chain_index = v.idx, chain_hash = decode(v.hash, 'hex')
      from unnest(${links.map((l) => l.id)}::uuid[], ${links.map((l) => String(l.index))}::int8[],
                  ${links.map((l) => l.hash.toString('hex'))}::text[]) as v(id, idx, hash)
     where ${patientId === null ? sql`e.patient_id is null` : sql`e.patient_id = ${patientId}`}
       and e.id = v.id and e.chain_index is null`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Sealed events of patients' chains in (patient_id, chain_index) order, after a keyset position. */
export async function listSealedPage(
  db: Queryable,
  after: { patientId: string; chainIndex: number } | undefined,
  limit: number,
): Promise<SealedEvent[]> {
  let query = selectChained(db.selectFrom('audit_events'))
    .where('patient_id', 'is not', null)
    .where('chain_index', 'is not', null);
  if (after) {
    query = query.where(
      sql<boolean>`(patient_id, chain_index) > (${after.patientId}::uuid, ${String(after.chainIndex)}::int8)`,
    );
  }
  const rows = await query.orderBy('patient_id').orderBy('chain_index').limit(limit).execute();
  return rows.map(toSealed);
}

/** Sealed events of the no-patient chain, by chain_index, after a position. */
export async function listSealedNoPatientPage(
  db: Queryable,
  afterIndex: number,
  limit: number,
): Promise<SealedEvent[]> {
  const rows = await selectChained(db.selectFrom('audit_events'))
    .where('patient_id', 'is', null)
    .where('chain_index', '>', String(afterIndex))
    .orderBy('chain_index')
    .limit(limit)
    .execute();
  return rows.map(toSealed);
}

export interface Head extends Link {
  chainKey: string;
}

/** Chain heads in chain-key order, after a key. */
export async function listHeadsPage(
  db: Queryable,
  afterKey: string | undefined,
  limit: number,
): Promise<Head[]> {
  let query = db.selectFrom('audit_chain_heads').select(['patient_id', 'chain_index', 'chain_hash']);
  if (afterKey !== undefined) query = query.where('patient_id', '>', afterKey);
  const rows = await query.orderBy('patient_id').limit(limit).execute();
  return rows.map((r) => ({ chainKey: r.patient_id, ...toLink(r) }));
}

export async function findHeads(db: Queryable, chainKeys: string[]): Promise<Head[]> {
  if (chainKeys.length === 0) return [];
  const rows = await db
    .selectFrom('audit_chain_heads')
    .select(['patient_id', 'chain_index', 'chain_hash'])
    .where('patient_id', 'in', chainKeys)
    .execute();
  return rows.map((r) => ({ chainKey: r.patient_id, ...toLink(r) }));
}

/** How many events the heads say are sealed (for progress). */
export async function countSealedByHeads(db: Queryable): Promise<number> {
  const row = await db
    .selectFrom('audit_chain_heads')
    .select(sql<string | number | null>`sum(chain_index)`.as('n'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Unsealed events recorded before `before`: how many, and the oldest few. */
export async function findUnsealedBefore(
  db: Queryable,
  before: Date,
  sample: number,
): Promise<{ count: number; oldest: Array<{ id: string; patientId: string | null; recordedAt: Date }> }> {
  const count = await db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('chain_index', 'is', null)
    .where('recorded_at', '<', before)
    .executeTakeFirstOrThrow();
  const rows = await db
    .selectFrom('audit_events')
    .select(['id', 'patient_id', 'recorded_at'])
    .where('chain_index', 'is', null)
    .where('recorded_at', '<', before)
    .orderBy('recorded_at')
    .limit(sample)
    .execute();
  return {
    count: Number(count.n),
    oldest: rows.map((r) => ({ id: r.id, patientId: r.patient_id, recordedAt: new Date(r.recorded_at) })),
  };
}
