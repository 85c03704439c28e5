import type { Runtime } from '../../runtime.ts';

/** `carnet person show|reissue-code|suspend|close …`. Returns the exit code. */
export async function personCommand(_runtime: Runtime, _args: string[]): Promise<number> {
  process.stderr.write('not implemented yet\n');
  return 2;
}
