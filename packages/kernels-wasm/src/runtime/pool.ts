import type { WasmMemory } from './api.js';
import { wasmApi } from './api.js';
import type { Arena } from './arena.js';
import { callKernel, type Job, KERNEL_NAMES, MAX_JOB_ARGS, type WasmExecutor } from './executor.js';
import { HEAP_BASE, WasmKernels } from './kernels.js';
import { compileKernels, type KernelBuildOptions } from './module.js';
import { WORKER_SOURCE } from './worker-source.js';

// Control block in the shared memory, below the arena (HEAP_BASE): Int32 words [generation, pending,
// shutdown, error], then one slot per worker: [kernel index (−1 idle), argument count, arguments…].
const CTRL = 4096;
const SLOTS = CTRL + 64;
const SLOT_DOUBLES = MAX_JOB_ARGS + 2;
/** Workers whose slots fit between the control block and the arena. */
const MAX_WORKERS = Math.floor((HEAP_BASE - SLOTS) / (SLOT_DOUBLES * 8));
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
 * the rest (spinning, then `Atomics.wait`), so a synchronous `forward` can use every thread. Until the
 * workers have started (`ready`), every job runs on the calling thread.
 */
export class WasmPool implements WasmExecutor {
  /** The calling thread's instance, whose arena every job's pointers point into. */
  readonly kernels: WasmKernels;
  readonly threads: number;
  /**
   * Resolves to true once every worker runs jobs, or to false when one could not start or the pool was
   * disposed first; either way `run` works (on the calling thread alone until then, or for good).
   */
  readonly ready: Promise<boolean>;
  /** The workers, once all have started; empty before (and for good when one failed). */
  #workers: WorkerLike[] = [];
  readonly #ctrl: Int32Array;
  readonly #slots: Float64Array;
  #canBlock = true;
  #disposed = false;

  /** Starts `threads − 1` workers on `kernels` (an instance of the shared-memory build) in the background. */
  constructor(kernels: WasmKernels, threads: number) {
    this.kernels = kernels;
    this.threads = threads;
    this.#ctrl = new Int32Array(kernels.memory.buffer, CTRL, 4);
    this.#slots = new Float64Array(kernels.memory.buffer, SLOTS, (threads - 1) * SLOT_DOUBLES);
    this.ready = this.#start(threads - 1);
  }

  get arena(): Arena {
    return this.kernels.arena;
  }

  get fma(): boolean {
    return this.kernels.fma;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  async #start(count: number): Promise<boolean> {
    const { module, memory } = this.kernels;
    const workers = await Promise.all(
      Array.from({ length: count }, (_, w) =>
        spawn({ module, memory, ctrl: CTRL, slot: SLOTS + w * SLOT_DOUBLES * 8, fns: KERNEL_NAMES }),
      ),
    );
    const started = workers.filter((w): w is WorkerLike => w !== null);
    if (this.#disposed || started.length < count) {
      for (const w of started) w.terminate();
      return false;
    }
    this.#workers = started;
    return true;
  }

  /** Runs the jobs `threads` at a time: jobs[0] of each wave on this thread, jobs[i] on worker i − 1. */
  run(jobs: readonly Job[]): void {
    if (this.#disposed) throw new Error('WasmPool: disposed (its workers are stopped); create a new pool');
    const width = this.#workers.length + 1;
    for (let i = 0; i < jobs.length; i += width) this.#wave(jobs.slice(i, i + width));
  }

  #wave(jobs: readonly Job[]): void {
    const [first, ...rest] = jobs;
    if (!first) return;
    if (rest.length === 0) {
      callKernel(this.kernels.exports, first);
      return;
    }
    const ctrl = this.#ctrl;
    const slots = this.#slots;
    for (let w = 0; w < this.#workers.length; w++) {
      const slot = w * SLOT_DOUBLES;
      const job = rest[w];
      if (!job) {
        slots[slot] = -1; // idle this wave
        continue;
      }
      if (job.args.length > MAX_JOB_ARGS)
        throw new RangeError(`WasmPool: ${job.kernel} has too many arguments`);
      slots[slot] = KERNEL_NAMES.indexOf(job.kernel);
      slots[slot + 1] = job.args.length;
      slots.set(job.args, slot + 2);
    }
    Atomics.store(ctrl, 1, this.#workers.length);
    Atomics.add(ctrl, 0, 1);
    Atomics.notify(ctrl, 0);
    let failure: unknown = null;
    try {
      callKernel(this.kernels.exports, first);
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

  /** Stops the workers (those still starting too); later `run` calls throw. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.kernels.dispose();
    Atomics.store(this.#ctrl, 2, 1);
    Atomics.add(this.#ctrl, 0, 1);
    Atomics.notify(this.#ctrl, 0);
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
  }

  /** A new pool of as many threads on a fresh shared memory; its workers start in the background. */
  renew(): WasmPool {
    return new WasmPool(new WasmKernels(this.kernels.module, sharedMemory()), this.threads);
  }
}

/** A shared memory for the kernels' shared-memory build (it declares a maximum of 4 GiB). */
function sharedMemory(): WasmMemory {
  if (!wasmApi) throw new Error('WasmPool: this engine has no WebAssembly');
  return new wasmApi.Memory({ initial: 2, maximum: 65536, shared: true });
}

/**
 * A pool of `threads` threads (the calling one included) on the shared-memory build of the kernels
 * (the relaxed-SIMD one where the engine has relaxed SIMD, unless `options.fma` is false), once every
 * worker has started; or null where threads are unavailable: no WebAssembly SIMD or threads, no
 * SharedArrayBuffer (a page that is not cross-origin isolated), or no workers.
 */
export async function createWasmPool(
  threads: number,
  options: KernelBuildOptions = {},
): Promise<WasmPool | null> {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WORKERS + 1) {
    throw new RangeError(
      `createWasmPool: threads must be an integer from 1 to ${MAX_WORKERS + 1}, received ${threads}`,
    );
  }
  if (!wasmApi || typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return null;
  let memory: WasmMemory;
  try {
    memory = sharedMemory();
  } catch {
    return null;
  }
  const module = await compileKernels(true, options).catch(() => null);
  if (!module) return null;
  const pool = new WasmPool(new WasmKernels(module, memory), threads);
  if (await pool.ready) return pool;
  pool.dispose();
  return null;
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
