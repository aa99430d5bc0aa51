import type { BenchConfig } from './configs.js';
import type { Problem } from './problem.js';

/** One implementation under test: set up on a problem, then called repeatedly. */
export interface Runner {
  /** Row label, e.g. `ONNX Runtime Web (wasm, 2 threads)`. */
  readonly name: string;
  /** Ours or a peer: ratios are ours ÷ peer. */
  readonly ours: boolean;
  /**
   * Why this implementation cannot compute this config as PyTorch does (the row then says so, untimed and
   * not counted as a failure); undefined when it can.
   */
  unsupported?(config: BenchConfig): string | undefined;
  /** False: this runner has no row at all on the config (a padded reference on a config that is not packed). */
  appliesTo?(config: BenchConfig): boolean;
  /**
   * Builds the model from the problem's weights; returns the output (B, T, D·H) of one forward. Training
   * configs: runs one training step and returns [its loss, then the output (B, T, D·H) of a forward with the
   * updated weights], so the loss and the step's update are both checked.
   */
  setup(problem: Problem): Promise<Float32Array>;
  /**
   * n samples, each the mean milliseconds of `batch` back-to-back forwards (each to a readable output); on a
   * training config, of `batch` training steps (each continuing from the last).
   */
  time(n: number, batch: number): Promise<number[]>;
  /** Frees what setup made. */
  teardown(): Promise<void>;
  /** Ends what the factory started (a subprocess, worker threads); called once at the end. */
  close?(): void;
}

/**
 * What `setup` returns on a training config: [the first step's loss, then the output after that step]. Not
 * `Float32Array.of(loss, ...output)`: spreading a C2 output (half a million values) overflows the stack.
 */
export function lossThenOutput(loss: number, output: Float32Array): Float32Array {
  const result = new Float32Array(1 + output.length);
  result[0] = loss;
  result.set(output, 1);
  return result;
}

/** The row of a backend's padded forward on a packed config: `recurrent cpu (wasm, 1 thr), padded forward`. */
export const paddedName = (name: string): string => `${name}, padded forward`;

/**
 * n samples of the mean time of `batch` calls of a function that runs one forward. Synchronous calls
 * are not awaited, so a microtask hop is not charged to them.
 */
export async function timeCalls(n: number, batch: number, call: () => unknown): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    for (let j = 0; j < batch; j++) {
      const r = call();
      if (r instanceof Promise) await r;
    }
    times.push((performance.now() - start) / batch);
  }
  return times;
}

/**
 * A factory that says why it cannot run here (no PyTorch, no GPU adapter) instead of throwing; several
 * runners when they share what it started (our backends: the packed and the padded forward).
 */
export type RunnerFactory = () => Promise<Runner | readonly Runner[] | { skipped: string }>;
