// The safetensors mutation fuzzer (packages/nn/src/safetensors/fuzz.test.ts) for as long as asked:
//   pnpm fuzz [-- --runs=100000] [--seed=7] [--jobs=4]
// Mutant i of seed S is mutant seed S + i; the runs are split across `jobs` vitest processes, and every
// failure is printed with its own seed, which replays it alone: pnpm fuzz -- --seed=<seed> --runs=1.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const usage = 'usage: pnpm fuzz -- [--runs=N] [--seed=S] [--jobs=J]';
const options = { runs: 10_000, seed: Math.floor(Math.random() * 2 ** 32), jobs: 0 };
for (const arg of process.argv.slice(2)) {
  if (arg === '--') continue; // what pnpm passes through before the script's own arguments
  const match = /^--(runs|seed|jobs)=(\d+)$/.exec(arg);
  if (!match) {
    console.error(`unknown argument ${JSON.stringify(arg)}\n${usage}`);
    process.exit(2);
  }
  options[match[1]] = Number(match[2]);
}
const { runs, seed } = options;
if (!(runs >= 1) || seed >= 2 ** 32) {
  console.error(`--runs must be at least 1 and --seed below 2^32\n${usage}`);
  process.exit(2);
}
// a vitest process costs ~1 s to start: give each a few thousand mutants at least
const jobs = Math.max(1, Math.min(options.jobs || availableParallelism(), Math.ceil(runs / 2000)));

const nn = fileURLToPath(new URL('..', import.meta.url));
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const work = mkdtempSync(join(tmpdir(), 'safetensors-fuzz-'));

/** Runs mutants [seed + start, seed + start + count) in one vitest process; resolves to its report. */
function job(index, start, count) {
  const report = join(work, `report-${index}.json`);
  const env = {
    ...process.env,
    SAFETENSORS_FUZZ_RUNS: String(count),
    SAFETENSORS_FUZZ_SEED: String((seed + start) >>> 0),
    SAFETENSORS_FUZZ_REPORT: report,
  };
  const args = [vitest, 'run', 'src/safetensors/fuzz.test.ts', '-t', 'loads or refuses', '--reporter=dot'];
  const child = spawn(process.execPath, args, { cwd: nn, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  return new Promise((resolve) => {
    child.on('close', (code) => {
      let parsed = null;
      try {
        parsed = JSON.parse(readFileSync(report, 'utf8'));
      } catch {}
      resolve({ code, output, report: parsed });
    });
  });
}

const mutants = (n) => `${n} mutant${n === 1 ? '' : 's'}`;
console.log(`safetensors fuzz: ${mutants(runs)} of seed ${seed} in ${jobs} process${jobs > 1 ? 'es' : ''}`);
const started = Date.now();
const bounds = Array.from({ length: jobs + 1 }, (_, k) => Math.floor((k * runs) / jobs));
const results = await Promise.all(
  Array.from({ length: jobs }, (_, k) => job(k, bounds[k], bounds[k + 1] - bounds[k])),
);
rmSync(work, { recursive: true, force: true });

const reports = results.map((r) => r.report).filter(Boolean);
const failures = reports.flatMap((r) => r.failures);
const sum = (key) => reports.reduce((n, r) => n + r[key], 0);
const slowest = reports.map((r) => r.slowest).sort((a, b) => b.ms - a.ms)[0];
console.log(
  `${mutants(sum('loaded') + sum('refused'))} in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
    `${sum('loaded')} loaded, ${sum('refused')} refused` +
    (slowest ? `; slowest ${slowest.ms.toFixed(1)} ms (seed ${slowest.seed})` : ''),
);
for (const f of failures) {
  console.error(`\n✗ mutant seed ${f.seed} (${f.steps.join(' → ')}):\n  ${f.problem}`);
  console.error(`  replay: pnpm fuzz -- --seed=${f.seed} --runs=1`);
}
const broken = results.filter((r) => !r.report);
for (const r of broken) console.error(`\na fuzz process exited with ${r.code} and no report:\n${r.output}`);
if (failures.length > 0 || broken.length > 0) {
  // each process stops collecting after 20 failures
  console.error(`\n${failures.length} failing mutant${failures.length === 1 ? '' : 's'} (seed ${seed})`);
  process.exit(1);
}
