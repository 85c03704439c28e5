#!/usr/bin/env node
// The `carnet` command (npx carnet …). Carnet runs on Node 24 (TypeScript type stripping); when an
// older system Node runs this file directly, re-run it with the Node pinned in node_modules.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    console.error(`Carnet needs Node 22 or later (found ${process.version}); run 'npm ci' first.`);
    process.exit(1);
  }
  const r = spawnSync(pinned, [join(root, 'src', 'cli.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
} else {
  await import(join(root, 'src', 'cli.ts'));
}
