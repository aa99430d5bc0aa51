// Run as its own process by memory.ts: peak memory of one C4 forward on the one-thread WASM backend.
import { readFileSync } from 'node:fs';
import { initWasm } from '@recurrent/kernels-wasm';
import { RNN, wasmCpuBackend } from '@recurrent/nn';
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

const c = CONFIGS.find((x) => x.id === 'C4');
if (!c) throw new Error('no C4');
const kernels = await initWasm();
if (!kernels) throw new Error('no WebAssembly SIMD');
globalThis.gc?.();
const baseline = peakRss(); // the Node process before any tensor exists
manualSeed(0);
const rnn = new RNN({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, batchFirst: true }).eval();
rnn.to(wasmCpuBackend(kernels));
const x = randn([c.batch, c.steps, c.inputSize]);
const [out, hN] = rnn.forward(x);
const peak = peakRss();
const weights = rnn.parameters().reduce((n, p) => n + p.numel() * 4, 0);
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
