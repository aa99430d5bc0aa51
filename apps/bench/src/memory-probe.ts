// Run as its own process by memory.ts: peak memory of one C4 forward on the one-thread WASM backend, or (with
// `train`) of one C2 training step.
import { readFileSync, writeFileSync } from 'node:fs';
import { initWasm } from '@recurrent/kernels-wasm';
import { Adam, mseLoss, RNN, wasmCpuBackend } from '@recurrent/nn';
import { manualSeed, randn } from '@recurrent/tensor';
import { CONFIGS } from './configs.js';

/**
 * The process's peak RSS in bytes: VmHWM, which starts afresh at exec (getrusage's maxRSS would report the
 * parent's peak, as Linux carries it across fork and exec) and at `resetPeak`; the current RSS where /proc
 * is missing.
 */
function peakRss(): number {
  return statusKb('VmHWM') ?? process.memoryUsage().rss;
}

function statusKb(field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync('/proc/self/status', 'utf8'),
    )?.[1];
    if (kb) return Number(kb) * 1024;
  } catch {}
  return null;
}

/** Starts the peak over from the current RSS (Linux: writing 5 to clear_refs resets VmHWM); false if it cannot. */
function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

// `memory-probe.js train [cold]`: one training step of C2-train (the RNN, 2 layers) instead of a C4 forward;
// `cold`: the process's first step, without the warm-up
const train = process.argv[2] === 'train';
const cold = process.argv[3] === 'cold';
const c = CONFIGS.find((x) => x.id === (train ? 'C2-train' : 'C4'));
if (!c) throw new Error('no config');
const kernels = await initWasm();
if (!kernels) throw new Error('no WebAssembly SIMD');
/** One training step (Adam, MSE) of a fresh 2-layer batch-first RNN, then dropped. */
function warmUpStep(batch: number, steps: number, inputSize: number, hiddenSize: number): void {
  const backend = wasmCpuBackend(kernels as NonNullable<typeof kernels>);
  const rnn = new RNN({ inputSize, hiddenSize, numLayers: 2, batchFirst: true }).to(backend);
  const opt = new Adam(rnn.parameters(), { lr: 1e-3 });
  opt.zeroGrad();
  const [out] = rnn.train().forward(randn([batch, steps, inputSize]));
  mseLoss(out, randn([batch, steps, hiddenSize])).backward();
  opt.step();
}
// A training loop's step, not the process's first: one-time costs (the compiled code of every function a step
// runs, the kernels' first blocks) are paid by a small model's steps first, which is then dropped
let warm = false;
if (train && !cold) {
  for (let i = 0; i < 3; i++) warmUpStep(4, 32, 32, 64);
  globalThis.gc?.();
  warm = resetPeak();
}
globalThis.gc?.();
// the Node process before any tensor of the measured step exists (warm: its current RSS, the peak reset)
const baseline = warm ? (statusKb('VmRSS') as number) : peakRss();
manualSeed(0);
const rnn = new RNN({
  inputSize: c.inputSize,
  hiddenSize: c.hiddenSize,
  numLayers: c.numLayers,
  batchFirst: true,
}).eval();
rnn.to(wasmCpuBackend(kernels));
const x = randn([c.batch, c.steps, c.inputSize]);
const weights = rnn.parameters().reduce((n, p) => n + p.numel() * 4, 0);
if (train) {
  const target = randn([c.batch, c.steps, c.hiddenSize]);
  rnn.train();
  // Adam: the optimizer state the budget counts (exp_avg and exp_avg_sq, one of each per parameter)
  const opt = new Adam(rnn.parameters(), { lr: 1e-3 });
  opt.zeroGrad();
  const [out] = rnn.forward(x);
  mseLoss(out, target).backward();
  opt.step();
  const peak = peakRss();
  // the activations a backward through time reads, as PyTorch's autograd graph saves them: each layer's
  // input, and per layer and step h_t (tanh's result) and h_{t−1} (the recurrent matmul's operand); counted
  // once (`savedDistinct`), h_{t−1} is h_t one step before (the fused forward stores it once)
  const rows = c.batch * c.steps;
  const layerInputs = rows * c.inputSize + (c.numLayers - 1) * rows * c.hiddenSize;
  const saved = (layerInputs + 2 * c.numLayers * rows * c.hiddenSize) * 4;
  const savedDistinct = (layerInputs + c.numLayers * rows * c.hiddenSize) * 4;
  process.stdout.write(
    JSON.stringify({
      peakOverBaseline: peak - baseline,
      weights,
      io: (x.numel() + out.numel() + target.numel()) * 4,
      saved,
      savedDistinct,
      wasmMemory: kernels.arena.stats().capacity,
    }),
  );
} else {
  const [out, hN] = rnn.forward(x);
  const peak = peakRss();
  const io = (x.numel() + out.numel() + hN.numel()) * 4;
  const projection = c.batch * c.steps * c.hiddenSize * 4;
  process.stdout.write(
    JSON.stringify({
      peakOverBaseline: peak - baseline,
      weights,
      io,
      projection,
      wasmMemory: kernels.arena.stats().capacity,
    }),
  );
}
