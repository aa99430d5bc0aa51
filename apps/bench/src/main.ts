// `pnpm bench [-- --quick] [--only=C2,C3,gemm,memory] [--skip=tfjs cpu] [--rounds=5] [--budget=3000] [--markdown=BENCHMARKS.md]`
import { writeFileSync } from 'node:fs';
import { CONFIGS, QUICK } from './configs.js';
import { gemmSection } from './gemm.js';
import { machineReport } from './machine.js';
import { memorySection } from './memory.js';
import { ours } from './ours.js';
import { ortNode, ortWeb } from './peers/ort.js';
import { tfjs } from './peers/tfjs.js';
import { torch } from './peers/torch.js';
import { configSection, ratioSummary } from './report.js';
import type { Runner, RunnerFactory } from './runner.js';
import { measureConfig, type Schedule } from './schedule.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
const option = (name: string): string | undefined =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = args.includes('--quick');
const only = option('only')?.split(',');
const skip = option('skip')?.split(',') ?? [];
const markdown = option('markdown');
const schedule: Schedule = {
  rounds: Number(option('rounds') ?? (quick ? 2 : 5)),
  budgetMs: Number(option('budget') ?? (quick ? 150 : 3000)),
  minSampleMs: quick ? 1 : 2,
};

const factories: RunnerFactory[] = [
  ...ours,
  ortWeb(2),
  ortNode(2),
  tfjs('wasm'),
  tfjs('cpu'),
  torch(false),
  torch(true),
];

async function main(): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const runners: Runner[] = [];
  const notes: string[] = [];
  for (const factory of factories) {
    const r = await factory();
    if ('skipped' in r) notes.push(`- skipped: ${r.skipped}`);
    else if (skip.some((s) => r.name.includes(s))) notes.push(`- skipped by --skip: ${r.name}`);
    else runners.push(r);
  }
  const configs = CONFIGS.filter((c) => (only ? only.includes(c.id) : !quick || QUICK.includes(c.id)));
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
  const memory = quick || (only && !only.includes('memory')) ? '' : memorySection();
  process.stdout.write(`${gemm}\n${memory}\n`);
  const summary = ratioSummary(all);
  process.stdout.write(`## Ratios\n\n${summary}\n`);
  for (const r of runners) r.close?.();
  if (markdown) {
    const body = all.map(({ config, results }) => configSection(config, results)).join('\n');
    writeFileSync(
      markdown,
      `# Benchmarks\n\n${header}\n## Ratios\n\n${summary}\n## Per configuration\n\n${body}\n## GEMM and memory\n\n${gemm}\n${memory}`,
    );
    log(`wrote ${markdown}`);
  }
  process.exit(0); // ONNX Runtime Web's worker threads would keep the process alive
}

await main();
