/**
 * Small helpers for benchmark command lines and terminal output: `--name value` options, a
 * progress bar on stderr, latency percentiles.
 */

/**
 * Parses `--key value` and `--key=value` pairs; throws on anything else or an unknown key.
 * @example parseOptions(['--docs', '500'], ['docs', 'size']) // { docs: '500' }
 */
export function parseOptions(args: string[], known: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`Unexpected argument ${JSON.stringify(arg)} (options look like --name value)`);
    const key = m[1] as string;
    if (!known.includes(key))
      throw new Error(`Unknown option --${key} (known: ${known.map((k) => `--${k}`).join(', ')})`);
    const value = m[2] ?? args[++i];
    if (value === undefined) throw new Error(`Option --${key} needs a value`);
    out[key] = value;
  }
  return out;
}

/**
 * A positive integer option, or the default.
 * @example intOption({ docs: '10' }, 'docs', 1000) // 10
 */
export function intOption(options: Record<string, string>, key: string, fallback: number): number {
  const raw = options[key];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${key} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * The p-th percentile (0–100) of already sorted values, nearest-rank method.
 * @example percentile([1, 2, 3, 4], 50) // 2
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** Rounds to `digits` decimals (for printed figures). */
export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Writes a line to stderr (progress and notes; stdout is kept for the result). */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

export interface ProgressBar {
  tick(n?: number): void;
  done(): void;
}

/**
 * A progress bar on stderr, redrawn at most every 100 ms (one line per 10 % when stderr is not a terminal).
 * @example const bar = progressBar('ingest', 1000); … bar.tick(); … bar.done();
 */
export function progressBar(label: string, total: number): ProgressBar {
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  let count = 0;
  let lastDraw = 0;
  let lastDecile = -1;
  const line = (): string => {
    const ratio = total ? count / total : 1;
    const width = 30;
    const filled = Math.round(ratio * width);
    const elapsed = (performance.now() - started) / 1000;
    const rate = elapsed > 0 ? count / elapsed : 0;
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count}/${total} ${rate.toFixed(0)}/s`;
  };
  const draw = (final: boolean): void => {
    if (tty) {
      process.stderr.write(`\r${line()}${final ? '\n' : ''}`);
      return;
    }
    const decile = Math.floor((count / Math.max(1, total)) * 10);
    if (decile !== lastDecile || final) {
      lastDecile = decile;
      process.stderr.write(`${line()}\n`);
    }
  };
  return {
    tick(n = 1) {
      count += n;
      const now = performance.now();
      if (now - lastDraw >= 100 || count === total) {
        lastDraw = now;
        draw(false);
      }
    },
    done() {
      if (tty) draw(true);
      else if (lastDecile !== 10) process.stderr.write(`${line()}\n`);
    },
  };
}
