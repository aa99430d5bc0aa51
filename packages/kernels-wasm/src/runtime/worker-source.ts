import { MAX_JOB_ARGS } from './executor.js';

/**
 * The body of a kernels worker, as source text, so Node (`eval: true`) and browsers (a Blob URL) start it
 * with no separate file for bundlers to find. `start` instantiates the module on the shared memory,
 * reports ready, then loops: wait for the generation word to change, run its slot's job (kernel index,
 * argument count, arguments), count down.
 * A job that throws (a trap) sets the error word instead of leaving the caller waiting forever.
 */
export const WORKER_SOURCE: string = `
function start({ module, memory, ctrl, slot, fns }, ready) {
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const c = new Int32Array(memory.buffer, ctrl, 4);
  const args = new Float64Array(memory.buffer, slot, 2 + ${MAX_JOB_ARGS});
  // Generation 0 until every worker is ready (the pool runs nothing before), so start from 0 rather
  // than reading it after \`ready\`: a worker preempted in between would skip the first job.
  let seen = 0;
  ready(true);
  for (;;) {
    Atomics.wait(c, 0, seen);
    seen = Atomics.load(c, 0);
    if (Atomics.load(c, 2) === 1) return;
    const fn = args[0];
    try {
      if (fn >= 0) ex[fns[fn]](...Array.from(args.subarray(2, 2 + args[1])));
    } catch {
      Atomics.store(c, 3, 1);
    }
    if (Atomics.sub(c, 1, 1) === 1) Atomics.notify(c, 1);
  }
}
`;
