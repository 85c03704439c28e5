import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Runtime } from '../../runtime.ts';
import { importPopulation, type ImportCounts } from './population.ts';

export const POPULATION_USAGE = `Usage: carnet population import <file.csv> [--report FILE] [--quiet]
  Imports the insurer's population file (columns: docs/population-import.md). Rejected rows are
  listed with their line and reason in FILE (CSV) when --report is given, and summed up here.
  Re-running the same file changes nothing. Exit 0 when the import ran (even with rejected rows),
  2 on bad usage, 1 when the file could not be read.`;

function progressLine(
  counts: Readonly<ImportCounts>,
  bytes: number,
  total: number,
  startedAt: number,
): string {
  const seconds = Math.max(0.001, (Date.now() - startedAt) / 1000);
  const ratio = total > 0 ? Math.min(1, bytes / total) : 0;
  const width = 24;
  const filled = Math.round(ratio * width);
  const rate = Math.round(counts.read / seconds);
  return `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${counts.read} rows, ${rate} people/s, ${counts.created} new, ${counts.alreadyPresent} present, ${counts.rejected} rejected`;
}

/** `carnet population import <file.csv> [--report FILE]`. Returns the exit code. */
export async function populationCommand(runtime: Runtime, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const reportAt = rest.indexOf('--report');
  const reportFile = reportAt >= 0 ? rest[reportAt + 1] : undefined;
  const quiet = rest.includes('--quiet');
  const positional = rest.filter((a, i) => !a.startsWith('--') && (reportAt < 0 || i !== reportAt + 1));
  const file = positional[0];
  if (sub !== 'import' || !file || positional.length > 1 || (reportAt >= 0 && !reportFile)) {
    process.stderr.write(POPULATION_USAGE + '\n');
    return 2;
  }
  const path = resolve(file);
  const total = (await stat(path)).size;
  const input = createReadStream(path, { highWaterMark: 256 * 1024 });
  const report = reportFile ? createWriteStream(resolve(reportFile), { mode: 0o600 }) : undefined;
  const startedAt = Date.now();
  const tty = process.stderr.isTTY && !quiet;
  let last = 0;
  const summary = await importPopulation(runtime.ctx, input, {
    source: basename(path),
    ...(report ? { report } : {}),
    onProgress: (counts) => {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      process.stderr.write(progressLine(counts, input.bytesRead, total, startedAt));
    },
  });
  if (tty) process.stderr.write('\r\x1b[K');
  if (report) {
    report.end();
    await finished(report);
  }
  const seconds = (Date.now() - startedAt) / 1000;
  const out = [
    `Imported ${basename(path)} in ${seconds.toFixed(1)} s (${Math.round(summary.read / Math.max(seconds, 0.001))} rows/s):`,
    `  ${summary.read} rows read`,
    `  ${summary.created} people created (${summary.created - summary.children} adults with a notice, ${summary.children} children)`,
    `  ${summary.alreadyPresent} already present (unchanged)`,
    `  ${summary.rejected} rejected${reportFile ? ` (all listed in ${reportFile})` : ''}`,
  ];
  if (summary.warnings > 0) out.push(`  ${summary.warnings} accepted with a warning (test OID)`);
  for (const r of summary.rejections.slice(0, 20)) {
    out.push(`    line ${r.line}${r.matricule ? ` (${r.matricule})` : ''}: ${r.reason}`);
  }
  if (summary.rejected > 20)
    out.push(`    … and ${summary.rejected - 20} more${reportFile ? '' : ' (use --report FILE)'}`);
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
