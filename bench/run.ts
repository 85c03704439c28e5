/**
 * Benchmark runner: `npm run bench -- <name> [options]` runs bench/<name>.ts, whose exported
 * `run(args)` receives the remaining arguments. Progress goes to stderr; each benchmark prints its
 * figures as one JSON object on the last line of stdout.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface BenchModule {
  run(args: string[]): Promise<void>;
}

function available(): string[] {
  return readdirSync(import.meta.dirname)
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
    .map((f) => f.slice(0, -3))
    .sort();
}

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const file = name && /^[a-z0-9-]+$/.test(name) ? join(import.meta.dirname, `${name}.ts`) : undefined;
  if (!file || !existsSync(file)) {
    process.stderr.write(`Usage: npm run bench -- <name> [options]\nBenchmarks: ${available().join(', ')}\n`);
    process.exit(2);
  }
  const mod = (await import(pathToFileURL(file).href)) as Partial<BenchModule>;
  if (typeof mod.run !== 'function') throw new Error(`bench/${name}.ts does not export run(args)`);
  await mod.run(rest);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
