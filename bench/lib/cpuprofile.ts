/**
 * Reads V8 CPU profiles (`node --cpu-prof`) and says where the main thread's time went: self time
 * by package or source file, inclusive time of our own functions (src/), and the hottest functions.
 * Work done off the main thread (libuv file writes and fsyncs, the database server) shows up as idle.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SummaryOptions {
  /** Only samples from the first one whose stack has a frame from a URL matching this (e.g. /src\/fhir\//). */
  from?: RegExp;
  /** Divide busy time by this to print a per-item cost (e.g. the number of requests). */
  items?: number;
  top?: number;
}

/** Where a frame's code lives: a package, a file of ours, a node built-in, or a V8 pseudo-frame. */
function bucketOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'anonymous'}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  const src = /\/(src\/.+)$/.exec(url);
  if (src) return src[1] as string;
  if (url.startsWith('node:')) return url;
  return url;
}

function frameName(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url ? `${bucketOf(url, functionName)}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
}

function table(title: string, totals: Map<string, number>, totalMs: number, top: number): string {
  const rows = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = rows.map(
    ([k, ms]) =>
      `  ${((100 * ms) / totalMs).toFixed(1).padStart(5)} %  ${ms.toFixed(0).padStart(7)} ms  ${k}`,
  );
  return `${title}\n${lines.join('\n')}`;
}

/**
 * A text report over every *.cpuprofile file of `dir`.
 * @example process.stderr.write(summariseCpuProfiles('/tmp/prof'));
 */
export function summariseCpuProfiles(dir: string, options: SummaryOptions = {}): string {
  const top = options.top ?? 18;
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return `no .cpuprofile in ${dir}`;
  const bySelfBucket = new Map<string, number>();
  const bySelfFunction = new Map<string, number>();
  const byOwnInclusive = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const stackOf = (node: ProfileNode): ProfileNode[] => {
      const out: ProfileNode[] = [];
      for (let cur: ProfileNode | undefined = node; cur; cur = byId.get(parent.get(cur.id) ?? -1))
        out.push(cur);
      return out;
    };
    let started = options.from === undefined;
    profile.samples.forEach((id, i) => {
      // A sample's delta is the time since the previous sample: it is charged to the sample's stack.
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      const node = byId.get(id);
      if (!node) return;
      if (!started) {
        const from = options.from as RegExp;
        if (!stackOf(node).some((f) => from.test(f.callFrame.url))) return;
        started = true;
      }
      totalMs += ms;
      if (node.callFrame.functionName === '(idle)') {
        idleMs += ms;
        return;
      }
      const add = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + ms);
      add(bySelfBucket, bucketOf(node.callFrame.url, node.callFrame.functionName));
      add(bySelfFunction, frameName(node));
      const seen = new Set<string>();
      for (const cur of stackOf(node)) {
        if (!/\/src\//.test(cur.callFrame.url)) continue;
        const name = frameName(cur);
        if (!seen.has(name)) {
          seen.add(name);
          add(byOwnInclusive, name);
        }
      }
    });
  }
  const busyMs = totalMs - idleMs;
  const perItem = options.items ? `, ${(busyMs / options.items).toFixed(2)} ms busy per item` : '';
  return [
    `main thread: ${(totalMs / 1000).toFixed(2)} s profiled${options.from ? ` from the first ${options.from.source} frame` : ''}, ` +
      `${(busyMs / 1000).toFixed(2)} s busy (${((100 * busyMs) / totalMs).toFixed(1)} %)${perItem}; percentages of busy time`,
    table('self time by package / file:', bySelfBucket, busyMs, top),
    table('inclusive time of src/ functions:', byOwnInclusive, busyMs, top),
    table('hottest functions (self):', bySelfFunction, busyMs, top),
  ].join('\n');
}
