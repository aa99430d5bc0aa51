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
 * Peak memory of one C2 training step (the RNN, 2 layers, Adam) in a fresh process, as markdown, against
 * issue 12's budget: parameters + gradients + optimizer state + saved activations (target ≤ 1.5×).
 */
export function trainingMemorySection(): string {
  const probe = fileURLToPath(new URL('./memory-probe.js', import.meta.url));
  const r = spawnSync(process.execPath, ['--expose-gc', probe, 'train'], { encoding: 'utf8' });
  if (r.status !== 0) return `### Peak memory (C2 training step)\n\nprobe failed: ${r.stderr}\n`;
  const m = JSON.parse(r.stdout) as Record<
    'peakOverBaseline' | 'weights' | 'io' | 'saved' | 'wasmMemory',
    number
  >;
  const f = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
  // parameters, their gradients, Adam's two moments
  const budget = 4 * m.weights + m.saved;
  return [
    '### Peak memory (C2-train: RNN, 2 layers, one Adam training step on WASM)',
    '',
    `- parameters + gradients + Adam state ${f(4 * m.weights)}, saved activations ${f(m.saved)}: ${f(budget)} ` +
      `(input + output + target, not counted: ${f(m.io)})`,
    `- peak RSS over the bare process (model, input, target and one step): ${f(m.peakOverBaseline)} = ` +
      `${(m.peakOverBaseline / budget).toFixed(2)}× (target ≤ 1.5×); the kernels' memory after: ${f(m.wasmMemory)}`,
    '',
  ].join('\n');
}
