// `pnpm bench [-- --quick] [--only=C2,C3-LSTM,C2-train,gemm,linear,memory,memory-train] [--cell=lstm,gru] [--skip=tfjs cpu] [--rounds=5]
//   [--budget=3000] [--markdown=BENCHMARKS.md]`: exits 1 when a runner fails (an error, or an output that differs).
import { writeFileSync } from 'node:fs';
import { type BenchConfig, CONFIGS, GATES, QUICK } from './configs.js';
import { gemmSection } from './gemm.js';
import { linearSection } from './linear.js';
import { machineReport } from './machine.js';
import { memorySection, trainingMemorySection } from './memory.js';
import { ours } from './ours.js';
import { ortNode, ortWeb } from './peers/ort.js';
import { tfjs } from './peers/tfjs.js';
import { torch } from './peers/torch.js';
import {
  cellTargets,
  configSection,
  fmaCeilingOf,
  gemmPeak,
  packedTargets,
  ratioSummary,
  trainingTargets,
} from './report.js';
import type { Runner, RunnerFactory } from './runner.js';
import { measureConfig, type Schedule } from './schedule.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
const option = (name: string): string | undefined =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = args.includes('--quick');
const only = option('only')?.split(',');
const cells = option('cell')?.toUpperCase().split(',');
for (const c of cells ?? [])
  if (!Object.hasOwn(GATES, c)) throw new Error(`--cell: unknown cell ${c} (rnn, lstm, gru)`);
const skip = option('skip')?.split(',') ?? [];
const markdown = option('markdown');
const schedule: Schedule = {
  rounds: Number(option('rounds') ?? (quick ? 2 : 5)),
  budgetMs: Number(option('budget') ?? (quick ? 150 : 3000)),
  minSampleMs: quick ? 1 : 2,
};

/**
 * `--only` names configs (C2, C2-LSTM, C2-GRU-packed); `--cell=lstm,gru` keeps those cells, and with it
 * `--only=C2` means C2 of each chosen cell (`--only=C2-packed`: their packed configs). `--quick` alone: the
 * QUICK list.
 */
function wanted(c: BenchConfig): boolean {
  if (cells && !cells.includes(c.cell)) return false;
  if (only)
    return only.includes(c.id) || (cells !== undefined && only.includes(c.id.replace(`-${c.cell}`, '')));
  return !quick || QUICK.includes(c.id);
}

const factories: RunnerFactory[] = [
  ...ours,
  ortWeb(2),
  ortNode(2),
  tfjs('wasm'),
  tfjs('cpu'),
  torch('default'),
  torch('tuned'),
  torch('openblas'),
];

async function main(): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const runners: Runner[] = [];
  const notes: string[] = [];
  for (const factory of factories) {
    const made = await factory();
    if ('skipped' in made) {
      notes.push(`- skipped: ${made.skipped}`);
      continue;
    }
    for (const r of Array.isArray(made) ? made : [made]) {
      if (skip.some((s) => r.name.includes(s))) notes.push(`- skipped by --skip: ${r.name}`);
      else runners.push(r);
    }
  }
  const configs = CONFIGS.filter(wanted);
  const command = `pnpm bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
  const header = [`Command: \`${command}\``, '', machineReport(), ...notes, ''].join('\n');
  process.stdout.write(`${header}\n`);
  const all = [];
  for (const config of configs) {
    const results = await measureConfig(config, runners, schedule, log);
    all.push({ config, results });
    process.stdout.write(`${configSection(config, results)}\n`);
  }
  const gemm = only && !only.includes('gemm') ? '' : await gemmSection(quick ? 256 : 1024, quick ? 3 : 9);
  const linear =
    only && !only.includes('linear') ? '' : await linearSection(schedule.rounds, schedule.budgetMs);
  // the memory probe runs the RNN's C4: not with --only without it, nor with --cell without rnn
  const noMemory = quick || (only && !only.includes('memory')) || (cells && !cells.includes('RNN'));
  // the training probe: with --only=memory-train (C2's training step), or a full run
  const noTrainMemory =
    quick || (only && !only.includes('memory-train')) || (cells && !cells.includes('RNN'));
  const memory = [noMemory ? '' : memorySection(), noTrainMemory ? '' : trainingMemorySection()]
    .filter(Boolean)
    .join('\n');
  const targets = [
    cellTargets(all, gemmPeak(gemm), fmaCeilingOf(gemm)),
    packedTargets(all),
    trainingTargets(all),
  ]
    .filter(Boolean)
    .join('\n');
  process.stdout.write(`${gemm}\n${linear}\n${memory}\n${targets}\n`);
  const summary = ratioSummary(all);
  process.stdout.write(`## Ratios\n\n${summary}\n`);
  for (const r of runners) r.close?.();
  const failed = all.flatMap(({ config, results }) =>
    results.flatMap((m) => ('failed' in m ? [`${config.id}: ${m.runner.name}: ${m.failed}`] : [])),
  );
  if (markdown) {
    const body = all.map(({ config, results }) => configSection(config, results)).join('\n');
    writeFileSync(
      markdown,
      `# Benchmarks\n\n${header}\n## Ratios\n\n${summary}\n## Per configuration\n\n${body}\n## GEMM and memory\n\n${gemm}\n${linear}\n${memory}\n${targets}`,
    );
    log(`wrote ${markdown}`);
  }
  for (const f of failed) log(`FAILED ${f}`);
  // exit explicitly: ONNX Runtime Web's worker threads would keep the process alive
  process.exit(failed.length > 0 ? 1 : 0);
}

await main();
