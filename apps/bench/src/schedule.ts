import type { BenchConfig } from './configs.js';
import { makeProblem } from './problem.js';
import type { Runner } from './runner.js';
import { compare, type Summary, summarize } from './stats.js';

export interface Schedule {
  /** Rounds over all runners; each round gives each runner a slice of its time budget. */
  readonly rounds: number;
  /** Milliseconds of timed calls per runner per config (at least one sample is always taken). */
  readonly budgetMs: number;
  /** Calls are batched so one sample lasts at least this long (timer resolution, tiny configs). */
  readonly minSampleMs: number;
}

/**
 * What one runner measured on one config, or why it was not timed: `failed` (an error, or an output that
 * differs from ours: the run fails) or `unsupported` (the runner cannot express the config; said, not failed).
 */
export type Measurement =
  | { readonly runner: Runner; readonly summary: Summary; readonly maxAbs: number }
  | { readonly runner: Runner; readonly failed: string }
  | { readonly runner: Runner; readonly unsupported: string };

/**
 * Runs every runner on one config: each is set up and its output checked against the first runner's
 * (ours, the reference); then rounds interleave the runners, rotating who goes first, so drift in a
 * shared, noisy machine spreads over all of them.
 */
export async function measureConfig(
  config: BenchConfig,
  runners: readonly Runner[],
  schedule: Schedule,
  log: (line: string) => void,
): Promise<Measurement[]> {
  const problem = makeProblem(config);
  const results = new Map<Runner, Measurement>();
  const active: { runner: Runner; estimate: number; spent: number; samples: number[]; maxAbs: number }[] = [];
  let reference: Float32Array | null = null;
  for (const runner of runners) {
    if (runner.appliesTo?.(config) === false) continue;
    const unsupported = runner.unsupported?.(config);
    if (unsupported) {
      results.set(runner, { runner, unsupported });
      continue;
    }
    try {
      const setupStart = performance.now();
      const out = await runner.setup(problem);
      const setupMs = performance.now() - setupStart;
      reference ??= out;
      const { ok, maxAbs } = compare(out, reference);
      if (!ok) {
        results.set(runner, {
          runner,
          failed: `output differs from ours (max |Δ| ${maxAbs.toExponential(2)})`,
        });
        await runner.teardown();
        continue;
      }
      // a second, warm call estimates the cost, unless the first (cold, with setup) took over a second
      const estimate = setupMs > 1000 ? setupMs : ((await runner.time(1, 1))[0] as number);
      active.push({ runner, estimate, spent: 0, samples: [], maxAbs });
    } catch (e) {
      results.set(runner, { runner, failed: e instanceof Error ? e.message : String(e) });
      // free what a failed setup made (a tfjs model on a training config would hold WASM memory)
      await runner.teardown().catch(() => {});
    }
  }
  for (let round = 0; round < schedule.rounds; round++) {
    for (let i = 0; i < active.length; i++) {
      const a = active[(i + round) % active.length];
      if (!a || (a.samples.length > 0 && a.spent >= schedule.budgetMs)) continue;
      const batch = Math.max(1, Math.floor(schedule.minSampleMs / Math.max(a.estimate, 1e-6)));
      const perRound = schedule.budgetMs / schedule.rounds;
      const n = Math.max(1, Math.min(50, Math.floor(perRound / (a.estimate * batch))));
      const times = await a.runner.time(n, batch);
      a.samples.push(...times);
      a.spent += times.reduce((s, t) => s + t * batch, 0);
      a.estimate = summarize(times).median;
    }
    log(`  ${config.id}: round ${round + 1}/${schedule.rounds} done`);
  }
  for (const a of active) {
    results.set(a.runner, { runner: a.runner, summary: summarize(a.samples), maxAbs: a.maxAbs });
    await a.runner.teardown();
  }
  return runners.flatMap((r) => results.get(r) ?? []);
}
