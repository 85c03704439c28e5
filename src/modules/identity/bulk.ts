import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Ctx } from '../../platform/context.ts';
import { deriveKey } from '../../platform/crypto.ts';
import type { Queryable } from '../../platform/db/database.ts';
import type { AccountStatus, PostalAddress } from '../../platform/db/schema.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { PROVISIONAL_CODE_DAYS, normalizeCode } from './codes.ts';

/**
 * Bulk creation of patients (the insurer's population file): one multi-row insert per batch
 * (`unnest` of column arrays), skipping people already present (same INS), and a provisional code
 * for each new person who needs one — generated here, kept only as its keyed hash (the same hash as
 * `issueProvisionalCode`), returned in clear for the notice.
 */

export interface BulkPatient {
  id: string;
  matricule: string;
  oid: string;
  given: string;
  family: string;
  /** YYYY-MM-DD */
  birthDate: string;
  sex: 'M' | 'F';
  birthplaceCode: string | null;
  email: string | null;
  cardSerial: string | null;
  postalAddress: PostalAddress | null;
  accountStatus: Extract<AccountStatus, 'pending' | 'open'>;
  origin: 'import' | 'birth';
  oppositionDeadline: Date | null;
  declaredBy: string | null;
  /** A provisional code to store (its keyed hash) when the person is created (see provisionalCodeMaker). */
  code: PreparedCode | null;
}

export interface PreparedCode {
  readonly id: string;
  /** In clear: for the notice, never stored. */
  readonly code: string;
  readonly hash: Buffer;
}

export interface BulkCreated {
  /** Index of the person in the input. */
  index: number;
  id: string;
}

const ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * Codes from the CSPRNG, drawn from one random buffer per batch (one call instead of one per code):
 * 16 symbols of the code alphabet (rejection sampling: no bias), grouped by four.
 */
function codeSource(): () => string {
  let pool = randomBytes(8192);
  let at = 0;
  const next = (): number => {
    if (at === pool.length) {
      pool = randomBytes(8192);
      at = 0;
    }
    return pool[at++] as number;
  };
  return () => {
    let raw = '';
    while (raw.length < 16) {
      const byte = next();
      if (byte < 240) raw += ALPHABET[byte % 30]; // 240 = 8 × 30
    }
    return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8, 12)}-${raw.slice(12)}`;
  };
}

/**
 * Makes provisional codes for many people (key derived once, randomness drawn in bulk): the code
 * in clear for the notice, and the same keyed hash as `issueProvisionalCode` (HMAC-SHA-256) to store.
 * @example const make = provisionalCodeMaker(ctx); const { id, code, hash } = make(patientId, now);
 */
export function provisionalCodeMaker(
  ctx: Pick<Ctx, 'masterKey'>,
): (patientId: string, now: Date) => PreparedCode {
  const key = createSecretKey(deriveKey(ctx.masterKey, 'provisional-code'));
  const nextCode = codeSource();
  return (patientId, now) => {
    const code = nextCode();
    return {
      id: uuidv7(now.getTime()),
      code,
      hash: createHmac('sha256', key)
        .update(`${patientId}:${normalizeCode(code)}`, 'utf8')
        .digest(),
    };
  };
}

/**
 * Inserts the people who are not present yet (by INS matricule + OID) in `db` (the caller's
 * transaction), and the prepared provisional code of each new one. Returns the new ones.
 */
export async function insertPatientsBulk(
  db: Queryable,
  people: readonly BulkPatient[],
  now: Date,
): Promise<BulkCreated[]> {
  if (people.length === 0) return [];
  const col = <T>(f: (p: BulkPatient) => T): T[] => people.map(f);
  const inserted = await sql<{ id: string }>`
    insert into patients (id, ins_matricule, ins_oid, given, family, birth_date, sex, birthplace_code,
      email, card_serial, postal_address, account_status, origin, opposition_deadline, declared_by,
      status_changed_at, created_at, updated_at)
    select t.id, t.m, t.o, t.g, t.f, t.b, t.s, t.bp, t.e, t.cs, t.a, t.st, t.orig, t.od, t.d, ${now}, ${now}, ${now}
    from unnest(${col((p) => p.id)}::uuid[], ${col((p) => p.matricule)}::text[], ${col((p) => p.oid)}::text[],
      ${col((p) => p.given)}::text[], ${col((p) => p.family)}::text[], ${col((p) => p.birthDate)}::date[],
      ${col((p) => p.sex)}::text[], ${col((p) => p.birthplaceCode)}::text[], ${col((p) => p.email)}::text[],
      ${col((p) => p.cardSerial)}::text[],
      ${col((p) => (p.postalAddress ? JSON.stringify(p.postalAddress) : null))}::jsonb[],
      ${col((p) => p.accountStatus)}::text[], ${col((p) => p.origin)}::text[],
      ${col((p) => p.oppositionDeadline)}::timestamptz[], ${col((p) => p.declaredBy)}::uuid[])
      as t(id, m, o, g, f, b, s, bp, e, cs, a, st, orig, od, d)
    on conflict (ins_matricule, ins_oid) do nothing
    returning id`.execute(db);
  const createdIds = new Set(inserted.rows.map((r) => r.id));
  const created: BulkCreated[] = [];
  const codes: Array<{ patientId: string; code: PreparedCode }> = [];
  people.forEach((p, index) => {
    if (!createdIds.has(p.id)) return;
    created.push({ index, id: p.id });
    if (p.code) codes.push({ patientId: p.id, code: p.code });
  });
  await insertProvisionalCodesBulk(db, codes, now);
  return created;
}

/** Stores prepared provisional codes (their keyed hashes) in `db`. */
export async function insertProvisionalCodesBulk(
  db: Queryable,
  codes: ReadonlyArray<{ patientId: string; code: PreparedCode }>,
  now: Date,
): Promise<void> {
  if (codes.length === 0) return;
  const expiresAt = new Date(now.getTime() + PROVISIONAL_CODE_DAYS * 86_400_000);
  await sql`
    insert into provisional_codes (patient_id, id, code_hash, issued_at, expires_at)
    select t.p, t.id, t.h, ${now}, ${expiresAt}
    from unnest(${codes.map((c) => c.patientId)}::uuid[], ${codes.map((c) => c.code.id)}::uuid[],
      ${codes.map((c) => c.code.hash)}::bytea[]) as t(p, id, h)`.execute(db);
}

/**
 * Claims up to `limit` pending spaces whose provisioning notice is still due, in `db` (a
 * transaction: concurrent claimers skip each other's rows), marking them noticed now.
 */
export async function claimProvisioningDue(
  db: Queryable,
  limit: number,
  now: Date,
): Promise<Array<{ id: string; email: string | null }>> {
  const r = await sql<{ id: string; email: string | null }>`
    update patients set provisioning_notice_at = ${now}
    where id in (
      select id from patients
      where account_status = 'pending' and provisioning_notice_at is null
      order by id limit ${limit}
      for update skip locked)
    returning id, email`.execute(db);
  return r.rows;
}

/**
 * The people among `matricules` already present (any OID), with what a parent check needs.
 * @example await findPatientsByMatricules(db, ['180017512345678'])
 */
export async function findPatientsByMatricules(
  db: Queryable,
  matricules: readonly string[],
): Promise<
  Array<{
    id: string;
    ins_matricule: string;
    ins_oid: string;
    birth_date: string;
    account_status: AccountStatus;
  }>
> {
  if (matricules.length === 0) return [];
  return db
    .selectFrom('patients')
    .select(['id', 'ins_matricule', 'ins_oid', 'birth_date', 'account_status'])
    .where('ins_matricule', '=', sql<string>`any(${[...matricules]}::text[])`)
    .execute();
}

/** Civil traits of the people present under these INS (matricule + OID pairs), to compare with a file. */
export async function findPatientTraitsByIns(
  db: Queryable,
  ins: ReadonlyArray<{ matricule: string; oid: string }>,
): Promise<
  Array<{
    id: string;
    ins_matricule: string;
    ins_oid: string;
    family: string;
    given: string;
    birth_date: string;
    sex: string;
  }>
> {
  if (ins.length === 0) return [];
  const r = await sql<{
    id: string;
    ins_matricule: string;
    ins_oid: string;
    family: string;
    given: string;
    birth_date: string;
    sex: string;
  }>`
    select p.id, p.ins_matricule, p.ins_oid, p.family, p.given, p.birth_date, p.sex
    from patients p
    join unnest(${ins.map((i) => i.matricule)}::text[], ${ins.map((i) => i.oid)}::text[]) as t(m, o)
      on p.ins_matricule = t.m and p.ins_oid = t.o`.execute(db);
  return r.rows;
}
