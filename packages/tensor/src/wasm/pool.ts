import { type WasmMemory, wasmApi } from './api.js';
import { WasmKernels } from './kernels.js';
import { compileKernels } from './module.js';
import { WORKER_SOURCE } from './worker-source.js';

/** One kernel call: an export of the kernels module and its arguments (byte offsets, sizes, scalars). */
export interface WasmJob {
  readonly fn: 'gemm' | 'rnnRecur';
  readonly args: readonly number[];
}

// Control block in the shared memory, between the module's static data (< 2 KiB) and the arena (64 KiB):
// Int32 words [generation, pending, shutdown, error], then one 16-double argument slot per worker.
const CTRL = 4096;
const SLOTS = CTRL + 64;
const SLOT_DOUBLES = 16;
const FNS = ['gemm', 'rnnRecur'] as const;
/** Main-thread polls before it blocks: most joins finish within this, and a futex wake is slow. */
const SPINS = 1 << 16;

interface WorkerLike {
  terminate(): unknown;
  unref?(): void;
}

/**
 * The kernels on `threads` threads sharing one WebAssembly memory: the calling thread and
 * `threads − 1` workers (Node `worker_threads`, or Web Workers where the page is cross-origin
 * isolated). `run` is synchronous: it hands each worker a job, runs the first itself, and waits for
 * the rest (spinning, then `Atomics.wait`), so a synchronous `forward` can use every thread.
 */
export class WasmPool {
  readonly kernels: WasmKernels;
  readonly threads: number;
  readonly #workers: WorkerLike[];
  readonly #ctrl: Int32Array;
  readonly #slots: Float64Array;
  #canBlock = true;

  constructor(kernels: WasmKernels, workers: WorkerLike[]) {
    this.kernels = kernels;
    this.#workers = workers;
    this.threads = workers.length + 1;
    this.#ctrl = new Int32Array(kernels.memory.buffer, CTRL, 4);
    this.#slots = new Float64Array(kernels.memory.buffer, SLOTS, workers.length * SLOT_DOUBLES);
  }

  /** Runs jobs[0] on this thread and jobs[i] on worker i − 1, returning when all are done. */
  run(jobs: readonly WasmJob[]): void {
    const ex = this.kernels.exports as unknown as Record<WasmJob['fn'], (...a: number[]) => void>;
    const [first, ...rest] = jobs;
    if (rest.length > this.#workers.length)
      throw new RangeError(`WasmPool: ${jobs.length} jobs, ${this.threads} threads`);
    if (rest.length === 0) {
      if (first) ex[first.fn](...first.args);
      return;
    }
    const ctrl = this.#ctrl;
    rest.forEach((job, w) => {
      const slot = w * SLOT_DOUBLES;
      this.#slots[slot] = FNS.indexOf(job.fn);
      this.#slots.set(job.args, slot + 1);
    });
    for (let w = rest.length; w < this.#workers.length; w++) this.#slots[w * SLOT_DOUBLES] = -1; // idle
    Atomics.store(ctrl, 1, this.#workers.length);
    Atomics.add(ctrl, 0, 1);
    Atomics.notify(ctrl, 0);
    let failure: unknown = null;
    try {
      if (first) ex[first.fn](...first.args);
    } catch (e) {
      failure = e; // rethrown once the workers are done, so none is left running on the memory
    }
    for (let i = 0; i < SPINS && Atomics.load(ctrl, 1) !== 0; i++);
    for (let left = Atomics.load(ctrl, 1); left !== 0; left = Atomics.load(ctrl, 1)) {
      if (this.#canBlock) {
        try {
          Atomics.wait(ctrl, 1, left);
        } catch {
          this.#canBlock = false; // a browser's main thread may not block: spin there
        }
      }
    }
    if (failure) throw failure;
    if (Atomics.exchange(ctrl, 3, 0) !== 0) throw new Error('WasmPool: a kernel failed in a worker thread');
  }

  /** Stops the workers. The pool must not be used after. */
  dispose(): void {
    Atomics.store(this.#ctrl, 2, 1);
    Atomics.add(this.#ctrl, 0, 1);
    Atomics.notify(this.#ctrl, 0);
    for (const w of this.#workers) w.terminate();
  }
}

/**
 * A pool of `threads` threads (≥ 2) on the shared-memory build of the kernels, or null where threads
 * are unavailable: no WebAssembly SIMD or threads, no SharedArrayBuffer (a page that is not
 * cross-origin isolated), or no workers.
 */
export async function createWasmPool(threads: number): Promise<WasmPool | null> {
  if (!wasmApi || typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return null;
  let memory: WasmMemory;
  try {
    memory = new wasmApi.Memory({ initial: 2, maximum: 65536, shared: true });
  } catch {
    return null;
  }
  const module = await compileKernels(true).catch(() => null);
  if (!module) return null;
  const kernels = new WasmKernels(module, memory);
  const workers: WorkerLike[] = [];
  for (let w = 0; w < threads - 1; w++) {
    const data = { module, memory, ctrl: CTRL, slot: SLOTS + w * SLOT_DOUBLES * 8, fns: FNS };
    const worker = await spawn(data);
    if (!worker) {
      for (const started of workers) started.terminate();
      return null;
    }
    workers.push(worker);
  }
  return new WasmPool(kernels, workers);
}

/** Starts one worker running WORKER_SOURCE and waits until it has instantiated the module. */
async function spawn(data: object): Promise<WorkerLike | null> {
  const g = globalThis as {
    process?: { versions?: { node?: string } };
    Worker?: new (
      url: string,
    ) => WorkerLike & {
      postMessage(m: unknown): void;
      onmessage: ((e: { data: unknown }) => void) | null;
    };
    Blob?: new (parts: string[], options: { type: string }) => object;
    URL?: { createObjectURL(blob: object): string };
  };
  if (g.process?.versions?.node) {
    const specifier = 'node:worker_threads'; // computed, so browser bundlers leave it alone
    const { Worker } = (await import(/* @vite-ignore */ specifier)) as {
      Worker: new (
        source: string,
        options: { eval: true; workerData: object },
      ) => WorkerLike & { once(event: 'message' | 'error', f: (v: unknown) => void): void };
    };
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');\n${WORKER_SOURCE}\nstart(workerData, (m) => parentPort.postMessage(m));`,
      { eval: true, workerData: data },
    );
    const ok = await new Promise<boolean>((resolve) => {
      worker.once('message', () => resolve(true));
      worker.once('error', () => resolve(false));
    });
    worker.unref?.();
    return ok ? worker : null;
  }
  if (!g.Worker || !g.Blob || !g.URL) return null;
  const source = `${WORKER_SOURCE}\nonmessage = (e) => start(e.data, (m) => postMessage(m));`;
  const worker = new g.Worker(g.URL.createObjectURL(new g.Blob([source], { type: 'text/javascript' })));
  const ok = await new Promise<boolean>((resolve) => {
    worker.onmessage = () => resolve(true);
    (worker as unknown as { onerror: () => void }).onerror = () => resolve(false);
    worker.postMessage(data);
  });
  return ok ? worker : null;
}
