import type { VerifyReport } from './verify.ts';

/**
 * `carnet audit verify` output: a readable report, and a progress bar for long runs.
 */

/**
 * The report as text: totals, then each chain's first broken link, checkpoint problems and stale
 * unsealed events.
 * @example process.stdout.write(formatVerifyReport(report));
 */
export function formatVerifyReport(report: VerifyReport): string {
  const out: string[] = [];
  const cp = report.checkpoints;
  out.push(
    `Checked ${report.events} sealed events in ${report.chains} chains; ` +
      `${cp.valid} of ${cp.files} checkpoints genuine${cp.latest ? ` (latest ${cp.latest})` : ''}.`,
  );
  for (const b of report.breaks) {
    out.push(
      `BROKEN  patient ${b.patientId ?? '(none)'}  chain_index ${b.chainIndex ?? '-'}  event ${b.eventId ?? '-'}: ${b.problem}`,
    );
  }
  for (const p of cp.problems) out.push(`BROKEN  ${p}`);
  for (const w of cp.warnings) out.push(`warning ${w}`);
  if (report.unsealed.count > 0) {
    out.push(
      `warning ${report.unsealed.count} events recorded before ${report.unsealed.olderThan.toISOString()} are not sealed yet (is the server's sealer running?)`,
    );
    for (const e of report.unsealed.oldest) {
      out.push(`        event ${e.id}  patient ${e.patientId ?? '(none)'}  at ${e.recordedAt.toISOString()}`);
    }
  }
  const broken = report.breaks.length + cp.problems.length;
  out.push(broken === 0 ? 'Every chain holds.' : `${broken} broken: the audit trail was tampered with.`);
  return out.join('\n') + '\n';
}

/**
 * A progress bar on a terminal stream (nothing when it is not a terminal), redrawn at most ten
 * times a second.
 * @example const bar = progressBar(process.stderr); bar.update(5, 10); bar.end();
 */
export function progressBar(stream: NodeJS.WriteStream): {
  update(done: number, total: number): void;
  end(): void;
} {
  let last = 0;
  let drawn = false;
  return {
    update(done, total) {
      if (!stream.isTTY) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const width = 30;
      const ratio = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(ratio * width);
      stream.write(
        `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${done}/${total} events`,
      );
      drawn = true;
    },
    end() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
