/**
 * CPU time actually consumed (user + system, all threads) by the processes of a benchmark, read
 * from /proc on Linux. Unlike wall-clock profiles it is not inflated when other work shares the
 * cores, so "CPU ms per document" per process says what the machine can sustain at best.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

// Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream architecture.
const TICK_MS = 10;

/** CPU milliseconds used so far by one process (all its threads), or undefined if unreadable. */
function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/** Pids of the PostgreSQL processes serving `database`, plus the shared writers (WAL, checkpoints). */
function postgresPids(database: string): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return pids;
  }
  for (const e of entries) {
    let title: string;
    try {
      title = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (!title.startsWith('postgres: ')) continue;
    if (
      title.includes(` ${database} `) ||
      /^postgres: (.*: )?(walwriter|checkpointer|background writer) *$/.test(title)
    ) {
      pids.push(Number(e));
    }
  }
  return pids;
}

export interface CpuSnapshot {
  readonly at: number;
  readonly byGroup: ReadonlyMap<string, number>;
}

export interface CpuGroups {
  /** Named processes, e.g. { server: pid }. */
  pids: Record<string, number>;
  /** Count the PostgreSQL processes of this database as the group "postgres". */
  postgresDatabase?: string;
  /** Count this process as the group "bench" (the load generator, or the floor). */
  self?: boolean;
}

/**
 * CPU milliseconds used so far, per group.
 * @example const before = cpuSnapshot({ pids: { server: pid }, postgresDatabase: 'carnet_bench_1', self: true });
 */
export function cpuSnapshot(groups: CpuGroups): CpuSnapshot {
  const byGroup = new Map<string, number>();
  for (const [name, pid] of Object.entries(groups.pids)) {
    const ms = processCpuMs(pid);
    if (ms !== undefined) byGroup.set(name, ms);
  }
  if (groups.postgresDatabase) {
    let total = 0;
    for (const pid of postgresPids(groups.postgresDatabase)) total += processCpuMs(pid) ?? 0;
    byGroup.set('postgres', total);
  }
  if (groups.self) {
    const u = process.cpuUsage();
    byGroup.set('bench', (u.user + u.system) / 1000);
  }
  return { at: performance.now(), byGroup };
}

/**
 * A one-line account of CPU per item between two snapshots, and the rate the machine's cores could
 * sustain if that CPU were the only limit.
 * @example note(describeCpu(before, cpuSnapshot(groups), 1000));
 */
export function describeCpu(before: CpuSnapshot, after: CpuSnapshot, items: number): string {
  const parts: string[] = [];
  let total = 0;
  for (const [name, end] of after.byGroup) {
    const used = end - (before.byGroup.get(name) ?? end);
    total += used;
    parts.push(`${name} ${(used / items).toFixed(2)}`);
  }
  const cores = availableParallelism();
  const wallMs = after.at - before.at;
  const ceiling = total > 0 ? (cores * 1000 * items) / total : Number.NaN;
  return (
    `CPU ms per doc: ${parts.join(', ')}, total ${(total / items).toFixed(2)} ` +
    `(${((100 * total) / (wallMs * cores)).toFixed(0)} % of ${cores} cores; CPU-bound ceiling ≈ ${ceiling.toFixed(0)} docs/s)`
  );
}
