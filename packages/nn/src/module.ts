import { cpuData, describeForError, formatShape, shapesEqual, Tensor } from '@recurrent/tensor';
import { defaultBackend } from './backend/default.js';
import type { Backend } from './backend/types.js';

/** A PyTorch-style state dict: parameter name → tensor. */
export type StateDict = Record<string, Tensor>;

/** Options of `loadStateDict`. */
export interface LoadStateDictOptions {
  /** Fail on missing or unexpected keys (default true, as in PyTorch). Shape mismatches always fail. */
  strict?: boolean;
}

/** What `loadStateDict` did not match (both empty under `strict`). */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * The base of every layer, like `torch.nn.Module`: named parameters in registration order,
 * `stateDict` / `loadStateDict` with PyTorch's keys, `train` / `eval`, and `to(backend)`.
 *
 * Parameters are kept on the CPU as the source of truth (they are what `stateDict` returns);
 * `to(backend)` gives the backend its own copy, so moving between backends is synchronous both ways.
 */
export abstract class Module {
  /** True in training mode (dropout active), false after `eval()`. */
  training = true;
  /** Null until `to()`: the module then follows `defaultBackend()`. */
  #backend: Backend | null = null;
  readonly #params = new Map<string, Tensor>();
  #onBackend = new Map<string, Tensor>();
  /** The backend `#onBackend` holds copies for. */
  #cachedFor: Backend | null = null;

  /**
   * The backend this module computes on: the one given to `to()`, else `defaultBackend()` (the
   * WebAssembly SIMD kernels in Node and workers, and in browsers after `await ready()`; else `cpuBackend`).
   */
  get backend(): Backend {
    return this.#backend ?? defaultBackend();
  }

  /** Registers (or replaces) a parameter; `value` must be a CPU tensor. */
  protected registerParameter(name: string, value: Tensor): void {
    cpuData(value, `registerParameter('${name}')`);
    this.#params.set(name, value);
    const stale = this.#onBackend.get(name);
    if (stale && stale !== value) stale.dispose();
    this.#onBackend.delete(name);
  }

  /** The parameter `name` on the current backend. */
  protected parameter(name: string): Tensor {
    const backend = this.backend;
    if (this.#cachedFor !== backend) this.#dropCopies(backend); // the default changed (after `ready()`)
    let t = this.#onBackend.get(name);
    if (!t) {
      const cpu = this.#params.get(name);
      if (!cpu) throw new Error(`${this.constructor.name}: no parameter named '${name}'`);
      t = backend.fromCpu(cpu);
      this.#onBackend.set(name, t);
    }
    return t;
  }

  /** Releases the backend copies of the parameters (not the CPU parameters themselves). */
  #dropCopies(next: Backend): void {
    for (const [name, t] of this.#onBackend) if (t !== this.#params.get(name)) t.dispose();
    this.#onBackend = new Map();
    this.#cachedFor = next;
  }

  /** A tensor argument on this module's backend: CPU tensors are uploaded, others must already be here. */
  protected onBackend(t: Tensor, what: string): Tensor {
    const backend = this.backend;
    if (backend.owns(t)) return t;
    if (t.device === 'cpu') return backend.fromCpu(t);
    const where = t.device === backend.device ? `another '${t.device}' backend` : `'${t.device}'`;
    throw new Error(
      `${this.constructor.name}: ${what} is on ${where} but the module runs on '${backend.label}'; ` +
        `move the module with .to(backend) or pass a CPU tensor`,
    );
  }

  /**
   * Calls `f` with a function that puts tensors on the module's backend; the copies it makes of CPU
   * arguments are released after the call, even when it throws.
   */
  protected withUploads<R>(f: (on: (t: Tensor, what: string) => Tensor) => R): R {
    const uploads: Tensor[] = [];
    try {
      return f((t, what) => {
        const u = this.onBackend(t, what);
        if (u !== t) uploads.push(u);
        return u;
      });
    } finally {
      for (const u of uploads) u.dispose();
    }
  }

  /**
   * A sentence that explains why `dict` does not fit this module (another cell type, say), added to
   * `loadStateDict`'s error; null when there is nothing to add. Subclasses override it.
   */
  protected stateDictMismatch(_dict: ReadonlyMap<string, unknown>): string | null {
    return null;
  }

  /** `[name, parameter]` pairs in registration order (CPU tensors). */
  namedParameters(): [string, Tensor][] {
    return [...this.#params];
  }

  /** The parameters in registration order (CPU tensors). */
  parameters(): Tensor[] {
    return [...this.#params.values()];
  }

  /** Parameter name → tensor, with PyTorch's key names. The tensors are the module's own: do not mutate. */
  stateDict(): StateDict {
    return Object.fromEntries(this.#params);
  }

  /**
   * Copies parameters from `dict` (PyTorch's key names and shapes). Every problem is reported in one
   * error: missing and unexpected keys (under `strict`, the default) and shape mismatches (always).
   */
  loadStateDict(
    dict: StateDict | Map<string, Tensor>,
    options: LoadStateDictOptions = {},
  ): LoadStateDictResult {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(
        `${this.constructor.name}.loadStateDict: options must be an object like { strict: false }, received ${describeForError(options)}`,
      );
    }
    if (dict === null || typeof dict !== 'object') {
      throw new TypeError(
        `${this.constructor.name}.loadStateDict: expected a state dict (an object or Map of name → Tensor), received ${describeForError(dict)}`,
      );
    }
    const { strict = true } = options;
    const entries = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const missingKeys = [...this.#params.keys()].filter((k) => !entries.has(k));
    const unexpectedKeys = [...entries.keys()].filter((k) => !this.#params.has(k));
    const problems: string[] = [];
    if (strict && missingKeys.length)
      problems.push(`Missing key(s) in state_dict: ${quoteAll(missingKeys)}.`);
    if (strict && unexpectedKeys.length)
      problems.push(`Unexpected key(s) in state_dict: ${quoteAll(unexpectedKeys)}.`);
    const loads: [string, Tensor][] = [];
    for (const [key, current] of this.#params) {
      const value = entries.get(key);
      if (value === undefined) continue;
      if (!(value instanceof Tensor)) {
        problems.push(
          `value for ${key} must be a Tensor, received ${value === null ? 'null' : typeof value}.`,
        );
      } else if (!shapesEqual(value.shape, current.shape)) {
        problems.push(
          `size mismatch for ${key}: copying a param with shape ${formatShape(value.shape)} from checkpoint, ` +
            `the shape in current model is ${formatShape(current.shape)}.`,
        );
      } else if (value.device !== 'cpu') {
        problems.push(
          `${key} is on '${value.device}': read it back with await t.data() and pass a CPU tensor.`,
        );
      } else {
        loads.push([key, Tensor.fromArray(cpuData(value).slice(), value.shape)]);
      }
    }
    if (problems.length) {
      const hint = this.stateDictMismatch(entries);
      throw new Error(
        `Error(s) in loading state_dict for ${this.constructor.name}:\n\t${problems.join('\n\t')}` +
          (hint ? `\n${hint}` : ''),
      );
    }
    for (const [key, value] of loads) this.registerParameter(key, value);
    return { missingKeys, unexpectedKeys };
  }

  /** Sets training mode (dropout active) or, with `false`, evaluation mode. */
  train(mode = true): this {
    this.training = mode;
    return this;
  }

  /** Evaluation mode: same as `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Computes on `backend` from now on; parameters are copied to it lazily, once. */
  to(backend: Backend): this {
    if (
      !backend ||
      typeof backend.rnn !== 'function' ||
      typeof backend.fromCpu !== 'function' ||
      typeof backend.owns !== 'function'
    ) {
      throw new TypeError(
        'to(): expected a Backend (cpuBackend, or one from createCpuBackend() or createWebGPUBackend())',
      );
    }
    if (backend.disposed) throw new Error(`to(): the backend '${backend.label}' is disposed`);
    if (backend !== this.#backend) {
      this.#dropCopies(backend);
      this.#backend = backend;
    }
    return this;
  }
}

function quoteAll(keys: string[]): string {
  return keys.map((k) => `"${k}"`).join(', ');
}
