import type { Runtime } from '../../runtime.ts';

/** `carnet population import <file.csv>`. Returns the exit code. */
export async function populationCommand(_runtime: Runtime, _args: string[]): Promise<number> {
  process.stderr.write('not implemented yet\n');
  return 2;
}
