import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MiB = 2 ** 20;

/** Peak memory of one C4 forward (WASM, one thread), measured in a fresh process, as markdown. */
export function memorySection(): string {
  const probe = fileURLToPath(new URL('./memory-probe.js', import.meta.url));
  const r = spawnSync(process.execPath, ['--expose-gc', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `### Peak memory (C4)\n\nprobe failed: ${r.stderr}\n`;
  const m = JSON.parse(r.stdout) as Record<
    'peakOverBaseline' | 'weights' | 'io' | 'projection' | 'wasmMemory',
    number
  >;
  const budget = m.io + m.weights + m.projection;
  const f = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
  return [
    '### Peak memory (C4, WASM, one thread)',
    '',
    `- inputs + outputs ${f(m.io)}, weights ${f(m.weights)}, one projection workspace ${f(m.projection)}: ${f(budget)}`,
    `- peak RSS over the bare process (model, input and one forward): ${f(m.peakOverBaseline)} = ` +
      `${(m.peakOverBaseline / budget).toFixed(2)}× (target ≤ 1.5×); the kernels' memory after: ${f(m.wasmMemory)}`,
    '',
  ].join('\n');
}

/**
 * Peak memory of one C2 training step (the RNN, 2 layers, Adam), each in a fresh process, as markdown,
 * against issue 12's budget: parameters + gradients + optimizer state + saved activations (target ≤ 1.5×).
 * A training loop's step (the probe warms up on a small model first; median and range of 5 processes), and
 * the process's first step (`cold`: every function compiled during it) for reference.
 */
export function trainingMemorySection(): string {
  const probe = fileURLToPath(new URL('./memory-probe.js', import.meta.url));
  type Probe = Record<
    'peakOverBaseline' | 'weights' | 'io' | 'saved' | 'savedDistinct' | 'wasmMemory',
    number
  >;
  const run = (cold: boolean): Probe | string => {
    const args = ['--expose-gc', probe, 'train', ...(cold ? ['cold'] : [])];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    return r.status === 0 ? (JSON.parse(r.stdout) as Probe) : `probe failed: ${r.stderr}`;
  };
  const warm = Array.from({ length: 5 }, () => run(false));
  const cold = run(true);
  const failed = [...warm, cold].find((m): m is string => typeof m === 'string');
  if (failed) return `### Peak memory (C2 training step)\n\n${failed}\n`;
  const runs = (warm as Probe[]).map((m) => m.peakOverBaseline).sort((a, b) => a - b);
  const m = warm[0] as Probe;
  const peak = runs[2] as number;
  const f = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
  // parameters, their gradients, Adam's two moments
  const budget = 4 * m.weights + m.saved;
  const distinct = 4 * m.weights + m.savedDistinct;
  const x = (bytes: number, of = budget): string => `${(bytes / of).toFixed(2)}×`;
  return [
    '### Peak memory (C2-train: RNN, 2 layers, one Adam training step on WASM)',
    '',
    `- parameters + gradients + Adam state ${f(4 * m.weights)}, saved activations ${f(m.saved)} (as PyTorch's ` +
      `graph saves them: each layer's input, and per step h_{t−1} and h_t): ${f(budget)} (input + output + ` +
      'target, not counted: ' +
      `${f(m.io)})`,
    `- peak RSS over the process before the step (a training loop's step; median of 5 processes): ${f(peak)} = ` +
      `${x(peak)} (target ≤ 1.5×; range ${x(runs[0] as number)}–${x(runs[4] as number)}); the kernels' memory ` +
      `after: ${f(m.wasmMemory)}`,
    `- against the activations counted once (h_{t−1} is h_t one step before: ${f(m.savedDistinct)}, budget ` +
      `${f(distinct)}): ${x(peak, distinct)}`,
    `- the process's first step (its code compiled during it): ${f((cold as Probe).peakOverBaseline)} = ` +
      `${x((cold as Probe).peakOverBaseline)}`,
    '',
  ].join('\n');
}
