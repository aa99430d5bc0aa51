// Run as its own process by memory.ts: peak memory of one C4 forward on the one-thread WASM backend, or (with
// `train`) of one C2 training step.
import { readFileSync } from 'node:fs';
import { initWasm } from '@recurrent/kernels-wasm';
import { Adam, mseLoss, RNN, wasmCpuBackend } from '@recurrent/nn';
import { manualSeed, randn } from '@recurrent/tensor';
import { CONFIGS } from './configs.js';

/**
 * The process's peak RSS in bytes: VmHWM, which starts afresh at exec (getrusage's maxRSS would report the
 * parent's peak, as Linux carries it across fork and exec); the current RSS where /proc is missing.
 */
function peakRss(): number {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) * 1024;
  } catch {}
  return process.memoryUsage().rss;
}

// `memory-probe.js train`: one training step of C2-train (the RNN, 2 layers) instead of a C4 forward
const train = process.argv[2] === 'train';
const c = CONFIGS.find((x) => x.id === (train ? 'C2-train' : 'C4'));
if (!c) throw new Error('no config');
const kernels = await initWasm();
if (!kernels) throw new Error('no WebAssembly SIMD');
globalThis.gc?.();
const baseline = peakRss(); // the Node process before any tensor exists
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
  // what the fused forward saves for the backward through time: each layer's input, and per layer its
  // output h (an Elman cell's only gate) and the state each step started from
  const rows = c.batch * c.steps;
  const layerInputs = rows * c.inputSize + (c.numLayers - 1) * rows * c.hiddenSize;
  const saved = (layerInputs + 2 * c.numLayers * rows * c.hiddenSize) * 4;
  process.stdout.write(
    JSON.stringify({
      peakOverBaseline: peak - baseline,
      weights,
      io: (x.numel() + out.numel() + target.numel()) * 4,
      saved,
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
