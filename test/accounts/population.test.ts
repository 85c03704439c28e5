import { pdfContent as pdfText, pdfHex as hex } from '../pdf.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deliverPendingNotices,
  issueProvisioningNotices,
  queueNotice,
  readLetter,
} from '../../src/modules/accounts/index.ts';
import { importPopulation, type ImportSummary } from '../../src/modules/accounts/population.ts';
import { checkProvisionalCode, majorityAt } from '../../src/modules/identity/index.ts';
import { insKey } from '../../src/modules/identity/ins.ts';
import { listOutboxMails, readOutboxMail } from '../../src/modules/notifications/index.ts';
import { cliWorkspace, PROJECT_ROOT, type CliWorkspace } from '../cli.ts';
import { createTestRuntime, seedPatient, type TestRuntime } from '../harness.ts';

const NOW = new Date('2026-11-22T10:00:00Z');
const NIR = '1.2.250.1.213.1.4.8';
const HEADER =
  'matricule,oid,birth_family_name,first_names,birth_date,sex,birthplace_code,email,address_line1,address_line2,postal_code,city,card_serial,parent_matricule';

let seq = 0;
/** A valid matricule, unique in this file (the order number carries a counter). */
function mat(sex: 1 | 2, yy: string, mm: string): string {
  seq++;
  const first13 = `${sex}${yy}${mm}75${String(100 + Math.floor(seq / 1000)).slice(-3)}${String(seq % 1000).padStart(3, '0')}`;
  return first13 + String(insKey(first13)).padStart(2, '0');
}

interface Person {
  matricule: string;
  family?: string;
  first?: string;
  birth: string;
  sex?: 'M' | 'F';
  email?: string;
  address?: boolean;
  card?: string;
  parent?: string;
  oid?: string;
}

function line(p: Person): string {
  return [
    p.matricule,
    p.oid ?? NIR,
    p.family ?? 'DUPONT',
    p.first ?? 'Anne Marie',
    p.birth,
    p.sex ?? 'F',
    '75056',
    p.email ?? '',
    p.address ? '"3 rue de la Paix, bis"' : '',
    '',
    p.address ? '75002' : '',
    p.address ? 'Paris' : '',
    p.card ?? (p.parent ? '' : '8025001234'),
    p.parent ?? '',
  ].join(',');
}

async function* chunks(text: string, size = 97): AsyncIterable<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

function csv(lines: string[]): string {
  return [HEADER, ...lines].join('\r\n') + '\r\n';
}

async function tableCounts(rt: TestRuntime) {
  const count = async (table: string) =>
    Number(
      (
        await sql<{ n: string | number }>`select count(*) as n from ${sql.table(table)}`.execute(
          rt.ctx.rootDb,
        )
      ).rows[0]?.n,
    );
  return {
    patients: await count('patients'),
    codes: await count('provisional_codes'),
    notices: await count('account_notices'),
    rules: await count('access_rules'),
  };
}

function decodeQp(mail: string): string {
  return mail
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

describe('population import', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await createTestRuntime({ clock: NOW });
  });
  afterAll(async () => {
    await rt.close();
  });

  const adultMail = { matricule: mat(2, '85', '03'), birth: '1985-03-14', email: 'anne.dupont@example.fr' };
  const adultLetter = {
    matricule: mat(1, '70', '01'),
    birth: '1970-01-05',
    sex: 'M' as const,
    first: 'Paul',
    address: true,
  };
  const child = {
    matricule: mat(1, '15', '06'),
    birth: '2015-06-20',
    sex: 'M' as const,
    first: 'Hugo',
    parent: adultMail.matricule,
  };
  const adults = Array.from({ length: 7 }, (_, i) => ({
    matricule: mat(2, '90', '02'),
    birth: '1990-02-10',
    email: `p${i}@example.fr`,
  }));
  const file = csv([line(adultMail), line(child), line(adultLetter), ...adults.map(line)]);
  let first: ImportSummary;

  it('imports adults as pending spaces with one code and one notice, children as open profiles', async () => {
    first = await importPopulation(rt.ctx, chunks(file), { batchSize: 4 });
    expect(first).toMatchObject({ read: 10, created: 10, children: 1, alreadyPresent: 0, rejected: 0 });
    const rows = await rt.ctx.rootDb
      .selectFrom('patients')
      .selectAll()
      .where('ins_matricule', 'in', [adultMail.matricule, child.matricule, adultLetter.matricule])
      .execute();
    const byMat = new Map(rows.map((r) => [r.ins_matricule, r]));
    const mom = byMat.get(adultMail.matricule);
    const kid = byMat.get(child.matricule);
    const paul = byMat.get(adultLetter.matricule);
    expect(mom).toMatchObject({
      account_status: 'pending',
      origin: 'import',
      given: 'Anne',
      family: 'DUPONT',
    });
    expect(mom?.opposition_deadline?.toISOString()).toBe(
      new Date(NOW.getTime() + 42 * 86_400_000).toISOString(),
    );
    expect(kid).toMatchObject({
      account_status: 'open',
      origin: 'birth',
      declared_by: mom?.id,
      opposition_deadline: null,
    });
    expect(paul?.postal_address).toEqual({
      lines: ['3 rue de la Paix, bis'],
      postalCode: '75002',
      city: 'Paris',
    });
    // The import writes people only; the notice job makes each pending adult's code and notice, once.
    expect(await tableCounts(rt)).toMatchObject({ codes: 0, notices: 0 });
    expect(await issueProvisioningNotices(rt.ctx, { limit: 5 })).toBe(5);
    expect(await issueProvisioningNotices(rt.ctx)).toBe(4);
    expect(await issueProvisioningNotices(rt.ctx)).toBe(0);
    const codes = await rt.ctx.rootDb.selectFrom('provisional_codes').selectAll().execute();
    expect(codes.filter((c) => c.patient_id === kid?.id)).toHaveLength(0);
    expect(codes.filter((c) => c.patient_id === mom?.id)).toHaveLength(1);
    const notices = await rt.ctx.rootDb.selectFrom('account_notices').selectAll().execute();
    expect(notices).toHaveLength(9);
    expect(notices.find((n) => n.patient_id === paul?.id)).toMatchObject({
      kind: 'provisioning',
      channel: 'letter',
    });
    expect(notices.find((n) => n.patient_id === mom?.id)).toMatchObject({ channel: 'email' });
    const rules = await rt.ctx.rootDb
      .selectFrom('access_rules')
      .selectAll()
      .where('patient_id', '=', kid?.id ?? '')
      .execute();
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      kind: 'representation',
      role: 'legal_representative',
      person_id: mom?.id,
    });
    expect(rules[0]?.ends_at?.toISOString()).toBe(majorityAt('2015-06-20').toISOString());
    const run = await rt.ctx.rootDb
      .selectFrom('population_imports')
      .selectAll()
      .where('id', '=', first.importId)
      .executeTakeFirst();
    expect(run).toMatchObject({ read_rows: 10, created: 10, children: 1, rejected: 0 });
  });

  it('re-running the same file changes nothing', async () => {
    const before = await tableCounts(rt);
    const again = await importPopulation(rt.ctx, chunks(file, 1000), { batchSize: 3 });
    expect(again).toMatchObject({ read: 10, created: 0, children: 0, alreadyPresent: 10, rejected: 0 });
    expect(await tableCounts(rt)).toEqual(before);
  });

  it('delivers the notices: the code by e-mail verifies, the letter PDF carries it, the sealed code is erased', async () => {
    const report = await deliverPendingNotices(rt.ctx);
    expect(report).toEqual({ delivered: 9, failed: 0 });
    const mom = await rt.ctx.rootDb
      .selectFrom('patients')
      .select('id')
      .where('ins_matricule', '=', adultMail.matricule)
      .executeTakeFirstOrThrow();
    const notice = await rt.ctx.rootDb
      .selectFrom('account_notices')
      .selectAll()
      .where('patient_id', '=', mom.id)
      .executeTakeFirstOrThrow();
    expect(notice.delivered_at).not.toBeNull();
    expect(notice.sealed_payload).toBeNull();
    const mail = decodeQp(
      (await readOutboxMail(rt.config.mail.kind === 'outbox' ? rt.config.mail.dir : '', notice.id)) ?? '',
    );
    expect(mail).toContain('To: anne.dupont@example.fr');
    const code = /([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4})/.exec(mail)?.[1];
    expect(code).toBeDefined();
    expect(mail).toContain('6 semaines');
    expect(mail).toContain('3 janvier 2027'); // 22 Nov 2026 + 42 days
    expect(
      await checkProvisionalCode(rt.ctx, rt.ctx.rootDb, mom.id, code ?? '', { consume: false }),
    ).toBeDefined();

    const paul = await rt.ctx.rootDb
      .selectFrom('patients')
      .select('id')
      .where('ins_matricule', '=', adultLetter.matricule)
      .executeTakeFirstOrThrow();
    const letterNotice = await rt.ctx.rootDb
      .selectFrom('account_notices')
      .selectAll()
      .where('patient_id', '=', paul.id)
      .executeTakeFirstOrThrow();
    expect(letterNotice.sealed_payload).toBeNull();
    const pdf = await readLetter(rt.ctx, paul.id, letterNotice.id);
    expect(pdf?.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdfText(pdf ?? Buffer.alloc(0));
    const letterCode = [...text.matchAll(/<([0-9A-F]+)>/g)]
      .map((m) => Buffer.from(m[1] ?? '', 'hex').toString('latin1'))
      .find((s) => /^[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}$/.test(s));
    expect(letterCode).toBeDefined();
    expect(text).toContain(hex('75002 Paris'));
    expect(
      await checkProvisionalCode(rt.ctx, rt.ctx.rootDb, paul.id, letterCode ?? '', { consume: false }),
    ).toBeDefined();
    // The blob store holds ciphertext only.
    const stored = await rt.ctx.blobs.get(letterNotice.letter_blob_key ?? '');
    expect(stored.subarray(0, 5).toString()).not.toBe('%PDF-');
    // Nothing left to deliver.
    expect(await deliverPendingNotices(rt.ctx)).toEqual({ delivered: 0, failed: 0 });
    expect((await listOutboxMails(rt.config.mail.kind === 'outbox' ? rt.config.mail.dir : '')).length).toBe(
      8,
    );
  });

  it('rejects bad rows with their line and reason while good rows land', async () => {
    const parent = { matricule: mat(2, '80', '04'), birth: '1980-04-01', email: 'mere@example.fr' };
    const good = {
      matricule: mat(1, '75', '05'),
      birth: '1975-05-05',
      sex: 'M' as const,
      email: 'ok@example.fr',
    };
    const wrongKey = mat(2, '81', '01');
    const badKey = wrongKey.slice(0, 13) + (wrongKey.endsWith('01') ? '02' : '01');
    const lines = [
      line(parent), // 2
      line({ matricule: badKey, birth: '1981-01-01', email: 'k@example.fr' }), // 3 bad INS key
      line({ matricule: mat(1, '84', '02'), birth: '1984-02-30', sex: 'M', email: 'd@example.fr' }), // 4 bad date
      line({ matricule: mat(2, '18', '04'), birth: '2018-04-22', parent: mat(2, '60', '01') }), // 5 unknown parent
      line(good), // 6
      line(good), // 7 duplicate
      line({ matricule: mat(2, '82', '01'), birth: '1982-01-01', email: '' }), // 8 no email nor address
      `${mat(1, '83', '01')},${NIR},DUPONT,"Jean,1983-01-01,M,75056,j@example.fr,,,,,8025001234,`, // 9 quote never closed (swallows 10)
      line({ matricule: mat(2, '86', '01'), birth: '1986-01-01', email: 'e@example.fr' }), // 10 read again
      `${mat(1, '87', '01')},${NIR},DU"PONT,Jean,1987-01-01,M,75056,j2@example.fr,,,,,8025001234,`, // 11 stray quote
      line({ matricule: mat(2, '88', '01'), birth: '2030-01-01', email: 'f@example.fr' }), // 12 future
      line({ matricule: mat(1, '89', '01'), birth: '1989-01-01', sex: 'M', email: 'c@example.fr', card: '' }), // 13 missing card
      `${mat(2, '90', '01')},${NIR},,Anne,1990-01-01,F,75056,a@example.fr,,,,,8025001234,`, // 14 missing family name
      line({
        matricule: mat(1, '12', '03'),
        birth: '2012-03-03',
        sex: 'M',
        first: 'Tom',
        parent: parent.matricule,
      }), // 15 child ok
    ];
    const out = new PassThrough();
    const written: Buffer[] = [];
    out.on('data', (b: Buffer) => written.push(b));
    const before = await tableCounts(rt);
    const result = await importPopulation(rt.ctx, chunks(csv(lines), 50), { report: out, batchSize: 5 });
    out.end();
    const reasons = new Map(result.rejections.map((r) => [r.line, r.reason]));
    expect(reasons.get(3)).toMatch(/INS key is wrong/);
    expect(reasons.get(4)).toMatch(/not a real date/);
    expect(reasons.get(5)).toMatch(/unknown parent/);
    expect(reasons.get(7)).toMatch(/duplicate of line 6/);
    expect(reasons.get(8)).toMatch(/email or a postal address/);
    expect(reasons.get(9)).toMatch(/never closed/);
    expect(reasons.has(10)).toBe(false);
    expect(reasons.get(11)).toMatch(/stray quote/);
    expect(reasons.get(12)).toMatch(/future/);
    expect(reasons.get(13)).toMatch(/card_serial is required/);
    expect(reasons.get(14)).toMatch(/birth_family_name is required/);
    expect(result).toMatchObject({ read: 14, created: 4, children: 1, rejected: 10 });
    await issueProvisioningNotices(rt.ctx);
    const after = await tableCounts(rt);
    expect(after.patients - before.patients).toBe(4);
    expect(after.codes - before.codes).toBe(3);
    expect(after.notices - before.notices).toBe(3);
    expect(after.rules - before.rules).toBe(1);
    const reportText = Buffer.concat(written).toString('utf8');
    expect(reportText.split('\n')[0]).toBe('line,matricule,reason');
    expect(reportText).toContain(`3,${badKey},INS key is wrong`);
    expect(reportText.trim().split('\n')).toHaveLength(11);
  });

  it('refuses a person already present with other civil traits, and accepts a parent already in the database', async () => {
    const existing = await seedPatient(rt.ctx, { birthDate: '1985-03-14' });
    const kid = { matricule: mat(2, '20', '01'), birth: '2020-01-01', parent: existing.ins.matricule };
    const result = await importPopulation(
      rt.ctx,
      chunks(
        csv([
          line({ matricule: existing.ins.matricule, birth: '1999-09-09', email: 'x@example.fr' }),
          line(kid),
        ]),
      ),
    );
    expect(result.rejections[0]).toMatchObject({
      line: 2,
      reason: expect.stringMatching(/other civil traits/) as unknown,
    });
    expect(result).toMatchObject({ created: 1, children: 1, alreadyPresent: 0 });
  });

  it('a batch the database refuses is retried row by row: no half-written batch, the good rows land', async () => {
    // A row whose e-mail breaks a constraint no row check foresees: a trigger stands in for it.
    await sql`create function carnet_test_refuse() returns trigger language plpgsql as $$ begin
      if new.email = 'refused@example.fr' then raise exception 'refused by test trigger'; end if; return new; end $$`.execute(
      rt.ctx.rootDb,
    );
    await sql`create trigger carnet_test_refuse before insert on patients for each row execute function carnet_test_refuse()`.execute(
      rt.ctx.rootDb,
    );
    try {
      const ok1 = { matricule: mat(2, '91', '01'), birth: '1991-01-01', email: 'ok1@example.fr' };
      const bad = { matricule: mat(2, '92', '01'), birth: '1992-01-01', email: 'refused@example.fr' };
      const ok2 = { matricule: mat(2, '93', '01'), birth: '1993-01-01', email: 'ok2@example.fr' };
      const before = await tableCounts(rt);
      const result = await importPopulation(rt.ctx, chunks(csv([line(ok1), line(bad), line(ok2)])), {
        batchSize: 10,
      });
      expect(result).toMatchObject({ created: 2, rejected: 1 });
      expect(result.rejections[0]).toMatchObject({
        line: 3,
        reason: expect.stringMatching(/refused by the database/) as unknown,
      });
      await issueProvisioningNotices(rt.ctx);
      const after = await tableCounts(rt);
      expect(after.patients - before.patients).toBe(2);
      expect(after.codes - before.codes).toBe(2);
      expect(after.notices - before.notices).toBe(2);
      const badRow = await rt.ctx.rootDb
        .selectFrom('patients')
        .select('id')
        .where('ins_matricule', '=', bad.matricule)
        .executeTakeFirst();
      expect(badRow).toBeUndefined();
    } finally {
      await sql`drop trigger carnet_test_refuse on patients`.execute(rt.ctx.rootDb);
      await sql`drop function carnet_test_refuse()`.execute(rt.ctx.rootDb);
    }
  });

  it('queues and delivers notices of other kinds, with or without a code', async () => {
    await deliverPendingNotices(rt.ctx); // those of the imports above
    const person = await seedPatient(rt.ctx); // no e-mail: a letter
    await rt.ctx.rootDb
      .updateTable('patients')
      .set({ suspension_deadline: new Date('2027-01-03T10:00:00Z') })
      .where('id', '=', person.id)
      .execute();
    const suspension = await queueNotice(rt.ctx, rt.ctx.rootDb, { patientId: person.id, kind: 'suspension' });
    expect(suspension.channel).toBe('letter');
    await rt.ctx.rootDb
      .updateTable('patients')
      .set({ email: 'late@example.fr' })
      .where('id', '=', person.id)
      .execute();
    const reissued = await queueNotice(rt.ctx, rt.ctx.rootDb, {
      patientId: person.id,
      kind: 'code_reissued',
      code: 'ABCD-EFGH-JKMN-PQRS',
    });
    expect(reissued.channel).toBe('email');
    const sealed = await rt.ctx.rootDb
      .selectFrom('account_notices')
      .select('sealed_payload')
      .where('id', '=', reissued.id)
      .executeTakeFirstOrThrow();
    expect(sealed.sealed_payload?.toString('latin1')).not.toContain('ABCD');
    expect(await deliverPendingNotices(rt.ctx)).toMatchObject({ delivered: 2, failed: 0 });
    const letter = pdfText((await readLetter(rt.ctx, person.id, suspension.id)) ?? Buffer.alloc(0));
    expect(letter).toContain(hex('Suspension de votre espace'));
    const mail = decodeQp(
      (await readOutboxMail(rt.config.mail.kind === 'outbox' ? rt.config.mail.dir : '', reissued.id)) ?? '',
    );
    expect(mail).toContain('ABCD-EFGH-JKMN-PQRS');
    expect(mail).toContain('Subject: Votre nouveau code provisoire Carnet');
  });

  it('refuses a file without the required header', async () => {
    await expect(importPopulation(rt.ctx, chunks('matricule,oid\n1,2\n'))).rejects.toThrow(
      /lacks the column/,
    );
  });
});

describe('carnet population import (CLI)', () => {
  const root = PROJECT_ROOT;
  let ws: CliWorkspace;
  let dataDir: string;
  beforeAll(async () => {
    ws = await cliWorkspace();
    dataDir = ws.dataDir;
  });
  afterAll(async () => {
    await ws?.close();
  });
  const carnet = (...args: string[]) => ws.carnet(args);

  it('imports docs/population-sample.csv, reports the bad rows, and a re-run changes nothing', () => {
    const report = join(dataDir, 'rejected.csv');
    const r = carnet('population', 'import', join(root, 'docs', 'population-sample.csv'), '--report', report);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('21 rows read');
    expect(r.stdout).toContain('18 people created (14 adults with a notice, 4 children)');
    expect(r.stdout).toContain('3 rejected');
    const lines = readFileSync(report, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['7', '14', '22']);
    const again = carnet('population', 'import', join(root, 'docs', 'population-sample.csv'));
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('0 people created');
    expect(again.stdout).toContain('18 already present');
  });

  it('exits 2 on bad usage', () => {
    expect(carnet('population', 'import').status).toBe(2);
  });
});
