import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { masterKeyFrom, type MasterKey } from './crypto.ts';

/**
 * The master key that wraps every document key. From CARNET_MASTER_KEY when set; in embedded mode
 * only, generated once into <dataDir>/master.key (mode 0600) with a warning — losing that file loses
 * every document, and anyone who reads it can decrypt them.
 */
export function loadMasterKey(
  configured: string | undefined,
  dataDir: string,
  warn: (message: string) => void,
): MasterKey {
  if (configured) return masterKeyFrom(Buffer.from(configured, 'base64'));
  const path = join(dataDir, 'master.key');
  if (!existsSync(path)) {
    writeFileSync(path, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    warn(
      `Generated a new master key at ${path} (embedded mode). Back it up apart from the data; set CARNET_MASTER_KEY in production.`,
    );
  }
  chmodSync(path, 0o600);
  return masterKeyFrom(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64'));
}
