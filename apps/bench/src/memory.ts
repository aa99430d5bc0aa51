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
 * Peak memory of one C2 training step (the RNN, 2 layers; WASM forward, TypeScript backward, SGD) in a fresh
 * process, as markdown: for reading (the issue sets no training memory target).
 */
export function trainingMemorySection(): string {
  const probe = fileURLToPath(new URL('./memory-probe.js', import.meta.url));
  const r = spawnSync(process.execPath, ['--expose-gc', probe, 'train'], { encoding: 'utf8' });
  if (r.status !== 0) return `### Peak memory (C2 training step)\n\nprobe failed: ${r.stderr}\n`;
  const m = JSON.parse(r.stdout) as Record<
    'peakOverBaseline' | 'weights' | 'io' | 'activations' | 'wasmMemory',
    number
  >;
  const f = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
  const floor = m.io + 2 * m.weights + 2 * m.activations;
  return [
    '### Peak memory (C2-train: RNN, 2 layers, one training step, WASM forward + TS backward)',
    '',
    `- input + output + target ${f(m.io)}, weights and their grads ${f(2 * m.weights)}, each layer's output ` +
      `and its gradient ${f(2 * m.activations)}: ${f(floor)}`,
    `- peak RSS over the bare process (model, input, target and one step): ${f(m.peakOverBaseline)} = ` +
      `${(m.peakOverBaseline / floor).toFixed(2)}× that (no target); the kernels' memory after: ${f(m.wasmMemory)}`,
    '',
  ].join('\n');
}
