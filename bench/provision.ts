/**
 * Provisioning benchmark: generates an insurer's population file (valid INS keys, ~5 % children
 * declared by a parent earlier in the file, ~10 % without e-mail), streams it to a temporary
 * directory, creates a fresh PostgreSQL database and imports the file with `importPopulation`
 * (the code behind `carnet population import`).
 *
 *   npm run bench -- provision [--count 1000000] [--batch 10000]
 *
 * PostgreSQL at CARNET_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432); the database and
 * the file are removed at the end. Progress on stderr; the last line of stdout is the result:
 *   {"bench":"provision","people":N,"people_per_s":X,"peak_rss_mb":Y}
 * peak_rss_mb is the largest resident set size sampled every 200 ms during the import (the file is
 * never held in memory: it should not grow with --count).
 */
import { createReadStream, createWriteStream, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { pino } from 'pino';
import { importPopulation } from '../src/modules/accounts/population.ts';
import { insKey } from '../src/modules/identity/ins.ts';
import { loadConfig } from '../src/config.ts';
import { openRuntime } from '../src/runtime.ts';
import {
  createScratchDatabase,
  isPostgresReachable,
  randomMasterKey,
  removeDir,
} from '../test/server-process.ts';
import { intOption, note, parseOptions, round } from './lib/cli.ts';

const HEADER =
  'matricule,oid,birth_family_name,first_names,birth_date,sex,birthplace_code,email,address_line1,address_line2,postal_code,city,card_serial,parent_matricule\n';
const FAMILIES = [
  'MARTIN',
  'BERNARD',
  'DUBOIS',
  'THOMAS',
  'ROBERT',
  'RICHARD',
  'PETIT',
  'DURAND',
  'LEROY',
  'MOREAU',
];
const GIVEN_F = ['Marie', 'Camille', 'Léa', 'Chloé', 'Inès Anne', 'Manon'];
const GIVEN_M = ['Jean', 'Lucas', 'Hugo', 'Louis Paul', 'Nathan', 'Théo'];
const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** The i-th person's matricule: unique for i < 80 million (department and order number carry i). */
function matricule(i: number, sex: 1 | 2, year: number, month: number): string {
  const first13 = `${sex}${pad(year % 100, 2)}${pad(month, 2)}${pad(10 + (Math.floor(i / 1e6) % 80), 2)}${pad(i % 1e6, 6)}`;
  return first13 + pad(insKey(first13), 2);
}

async function generate(path: string, count: number): Promise<void> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  out.write(HEADER);
  const adults: string[] = [];
  let buffer = '';
  for (let i = 0; i < count; i++) {
    const child = i % 20 === 19 && adults.length > 0;
    const sex: 1 | 2 = i % 2 === 0 ? 2 : 1;
    const year = child ? 2010 + (i % 15) : 1940 + (i % 66);
    const month = 1 + (i % 12);
    const day = 1 + (i % 28);
    const m = matricule(i, sex, year, month);
    const family = FAMILIES[i % FAMILIES.length] as string;
    const given = (sex === 2 ? GIVEN_F : GIVEN_M)[i % 6] as string;
    const birth = `${year}-${pad(month, 2)}-${pad(day, 2)}`;
    if (child) {
      const parent = adults[i % adults.length] as string;
      buffer += `${m},1.2.250.1.213.1.4.8,${family},${given},${birth},${sex === 2 ? 'F' : 'M'},75056,,,,,,,${parent}\n`;
    } else {
      const withMail = i % 10 !== 3;
      const email = withMail ? `p${i}@example.fr` : '';
      const address = withMail ? ',,,' : `"${1 + (i % 120)} rue de la République, bât. B",,75011,Paris`;
      buffer += `${m},1.2.250.1.213.1.4.8,${family},${given},${birth},${sex === 2 ? 'F' : 'M'},75056,${email},${address},80${pad(i, 8)},\n`;
      if (adults.length < 1000) adults.push(m);
      else adults[i % 1000] = m;
    }
    if (buffer.length > 1 << 16) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
}

export async function run(args: string[]): Promise<void> {
  const options = parseOptions(args, ['count', 'batch']);
  const count = intOption(options, 'count', 1_000_000);
  const batchSize = intOption(options, 'batch', 10_000);
  if (!(await isPostgresReachable())) throw new Error('PostgreSQL is not reachable on 127.0.0.1:5432');
  const dir = mkdtempSync(join(tmpdir(), 'carnet-provision-'));
  const file = join(dir, 'population.csv');
  const db = await createScratchDatabase('carnet_provision');
  try {
    let started = performance.now();
    await generate(file, count);
    note(
      `generated ${count} people (${round(statSync(file).size / 1e6)} MB) in ${round((performance.now() - started) / 1000)} s`,
    );
    const config = loadConfig({
      CARNET_DATA_DIR: join(dir, 'data'),
      CARNET_MASTER_KEY: randomMasterKey(),
      DATABASE_URL: db.url,
      DATABASE_POOL_SIZE: '4',
      LOG_LEVEL: 'warn',
    });
    const runtime = await openRuntime(config, pino({ level: 'warn' }));
    let peak = process.memoryUsage.rss();
    const rssAt: string[] = [];
    let nextMark = 0.25;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 200);
    try {
      started = performance.now();
      let lastDraw = 0;
      const summary = await importPopulation(
        runtime.ctx,
        createReadStream(file, { highWaterMark: 256 * 1024 }),
        {
          source: 'bench',
          batchSize,
          onProgress: (c) => {
            const now = performance.now();
            const rss = process.memoryUsage.rss();
            peak = Math.max(peak, rss);
            if (c.read >= nextMark * count) {
              rssAt.push(`${Math.round(nextMark * 100)}%: ${round(rss / 1048576)} MB`);
              nextMark += 0.25;
            }
            if (now - lastDraw < 1000) return;
            lastDraw = now;
            const rate = c.read / ((now - started) / 1000);
            process.stderr.write(
              `\rimport: ${c.read}/${count} rows, ${Math.round(rate)} people/s, rss ${round(rss / 1048576)} MB, heap ${round(process.memoryUsage().heapUsed / 1048576)} MB   `,
            );
          },
        },
      );
      const seconds = (performance.now() - started) / 1000;
      process.stderr.write('\n');
      peak = Math.max(peak, process.memoryUsage.rss());
      note(
        `imported: ${summary.created} created (${summary.children} children), ${summary.alreadyPresent} present, ${summary.rejected} rejected in ${round(seconds)} s; rss ${rssAt.join(', ')}`,
      );
      for (const r of summary.rejections.slice(0, 5)) note(`  rejected line ${r.line}: ${r.reason}`);
      process.stdout.write(
        JSON.stringify({
          bench: 'provision',
          people: summary.created,
          people_per_s: Math.round(summary.read / seconds),
          peak_rss_mb: round(peak / 1048576),
        }) + '\n',
      );
    } finally {
      clearInterval(sampler);
      await runtime.close();
    }
  } finally {
    await db.drop();
    removeDir(dir);
  }
}
