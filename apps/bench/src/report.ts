import { type BenchConfig, describeConfig, flopsOf } from './configs.js';
import type { Measurement } from './schedule.js';

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));
const ratio = (v: number): string => `${v < 10 ? v.toFixed(2) : v.toFixed(0)}×`;

/** One config's results as markdown: a row per implementation, then ours ÷ each peer. */
export function configSection(config: BenchConfig, results: readonly Measurement[]): string {
  const flops = flopsOf(config);
  const lines = [
    `### ${config.id}: ${describeConfig(config)} (${(flops / 1e6).toPrecision(3)} MFLOP per forward)`,
    '',
    '| implementation | median ms | min ms | max ms | samples | GFLOP/s | max abs Δ vs ours |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const m of results) {
    if ('failed' in m) lines.push(`| ${m.runner.name} | — | — | — | — | — | not timed: ${m.failed} |`);
    else {
      const { median, min, max, n } = m.summary;
      const gflops = flops / (median * 1e6);
      lines.push(
        `| ${m.runner.name} | ${ms(median)} | ${ms(min)} | ${ms(max)} | ${n} | ${gflops.toFixed(2)} | ${m.maxAbs.toExponential(1)} |`,
      );
    }
  }
  const timed = results.filter((m) => 'summary' in m);
  const ours = timed.filter((m) => m.runner.ours);
  const peers = timed.filter((m) => !m.runner.ours);
  if (ours.length > 0 && peers.length > 0) {
    lines.push('', `| ours ÷ peer (median) | ${peers.map((p) => p.runner.name).join(' | ')} |`);
    lines.push(`|---|${peers.map(() => '---:').join('|')}|`);
    for (const o of ours) {
      const cells = peers.map((p) => ratio(o.summary.median / p.summary.median));
      lines.push(`| ${o.runner.name} | ${cells.join(' | ')} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Every config × peer for one of our implementations: the ratio of medians (below 1: we are faster). */
export function ratioSummary(
  all: readonly { config: BenchConfig; results: readonly Measurement[] }[],
): string {
  const timedOf = (results: readonly Measurement[]) => results.filter((m) => 'summary' in m);
  const names = (ours: boolean) => [
    ...new Set(
      all.flatMap(({ results }) =>
        timedOf(results)
          .filter((m) => m.runner.ours === ours)
          .map((m) => m.runner.name),
      ),
    ),
  ];
  const peers = names(false);
  const lines: string[] = [];
  for (const name of names(true)) {
    lines.push(`**${name}** ÷ peer (median ms ratio; below 1 means ours is faster)`, '');
    lines.push(`| config | ${peers.join(' | ')} |`, `|---|${peers.map(() => '---:').join('|')}|`);
    for (const { config, results } of all) {
      const timed = timedOf(results);
      const o = timed.find((m) => m.runner.name === name);
      const cells = peers.map((p) => {
        const m = timed.find((r) => r.runner.name === p);
        return o && m ? ratio(o.summary.median / m.summary.median) : '—';
      });
      lines.push(`| ${config.id} | ${cells.join(' | ')} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
