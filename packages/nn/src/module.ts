import {
  CpuStorage,
  cpuData,
  describeForError,
  formatShape,
  type Storage,
  shapesEqual,
  Tensor,
} from '@recurrent/tensor';
import { defaultBackend } from './backend/default.js';
import type { Backend } from './backend/types.js';

/** A PyTorch-style state dict: parameter name → tensor. */
export type StateDict = Record<string, Tensor<'float32'>>;

/** Options of `loadStateDict`. */
export interface LoadStateDictOptions {
  /** Fail on missing or unexpected keys (default true, as in PyTorch). Shape mismatches always fail. */
  strict?: boolean;
  /**
   * Load only the keys that start with this prefix (ending in a dot, e.g. `'rnn.'`), with the prefix
   * removed: `model.rnn.loadStateDict(whole, { prefix: 'rnn.' })`. Other keys are ignored. Default `''`.
   */
  prefix?: string;
}

/** What `loadStateDict` did not match (both empty under `strict`); keys as the state dict spells them. */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * The base of every layer, like `torch.nn.Module`: named parameters in registration order, child modules
 * (`registerModule`) with PyTorch's dotted names, `stateDict` / `loadStateDict` with PyTorch's keys,
 * `train` / `eval`, and `to(backend)`, all recursing into the children.
 *
 * Parameters are kept on the CPU as the source of truth (they are what `stateDict` returns);
 * `to(backend)` gives the backend its own copy, so moving between backends is synchronous both ways.
 * Training on a device (WebGPU) moves the parameters there (see `toAsync` for the way back).
 *
 * @example
 * class CharModel extends Module {
 *   embed = this.registerModule('embed', new Embedding({ numEmbeddings: 71, embeddingDim: 32 }));
 *   rnn = this.registerModule('rnn', new LSTM({ inputSize: 32, hiddenSize: 128, batchFirst: true }));
 *   head = this.registerModule('head', new Linear({ inFeatures: 128, outFeatures: 71 }));
 * }
 * new CharModel().loadStateDict(dict); // keys 'embed.weight', 'rnn.weight_ih_l0', …, 'head.bias'
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.Module.html | torch.nn.Module}
 */
export abstract class Module {
  /** True in training mode (dropout active), false after `eval()`. */
  training = true;
  /** Null until `to()`: the module then follows `defaultBackend()`. */
  #backend: Backend | null = null;
  readonly #params = new Map<string, Tensor<'float32'>>();
  readonly #children = new Map<string, Module>();
  #onBackend = new Map<string, Tensor>();
  /** The CPU parameter's version when its `#onBackend` copy was made: a later in-place write (an optimizer step) refreshes the copy. */
  #copiedAt = new Map<string, number>();
  /** The backend `#onBackend` holds copies for. */
  #cachedFor: Backend | null = null;
  /** A parameter moved to a device (`residentParameters`): its CPU storage and the version it had then. */
  #cpuStorage = new Map<string, { storage: Storage; version: number }>();

  /**
   * The backend this module computes on: the one given to `to()`, else `defaultBackend()` (the
   * WebAssembly SIMD kernels in Node and workers, and in browsers after `await ready()`; else `cpuBackend`).
   */
  get backend(): Backend {
    return this.#backend ?? defaultBackend();
  }

  /** Registers (or replaces) a parameter; `value` must be a CPU tensor. */
  protected registerParameter(name: string, value: Tensor<'float32'>): void {
    this.#checkName(name, 'registerParameter');
    if (this.#children.has(name)) {
      throw new Error(`${this.constructor.name}.registerParameter: '${name}' is already a submodule`);
    }
    cpuData(value, `registerParameter('${name}')`);
    this.#setParameter(name, value);
  }

  #setParameter(name: string, value: Tensor<'float32'>): void {
    // a parameter requires grad, as PyTorch's nn.Parameter does
    if (value.gradFn === null && !value.requiresGrad) value.requiresGrad_(true);
    this.#params.set(name, value);
    const stale = this.#onBackend.get(name);
    if (stale && stale !== value) stale.dispose();
    this.#onBackend.delete(name);
    this.#cpuStorage.delete(name);
  }

  /**
   * Registers (or replaces) the child `module` under `name`, like PyTorch's `register_module`, and returns
   * it, so a class field can hold it: `rnn = this.registerModule('rnn', new LSTM({ … }))`. Its parameters
   * then appear in `stateDict()` as `rnn.weight_ih_l0`, after this module's own, in registration order.
   */
  registerModule<M extends Module>(name: string, module: M): M {
    this.#checkName(name, 'registerModule');
    if (!(module instanceof Module)) {
      throw new TypeError(
        `${this.constructor.name}.registerModule('${name}'): expected a Module, received ${describeForError(module)}`,
      );
    }
    if (this.#params.has(name)) {
      throw new Error(`${this.constructor.name}.registerModule: '${name}' is already a parameter`);
    }
    for (const [, m] of module.#tree('')) {
      if (m === this) {
        throw new Error(
          `${this.constructor.name}.registerModule('${name}'): the module contains this one, which would make a cycle`,
        );
      }
    }
    this.#children.set(name, module);
    return module;
  }

  #checkName(name: unknown, op: string): void {
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      throw new TypeError(
        `${this.constructor.name}.${op}: a name must be a non-empty string without '.', received ${
          typeof name === 'string' ? `'${name}'` : describeForError(name)
        }`,
      );
    }
  }

  /** The parameter `name` on the current backend. */
  protected parameter(name: string): Tensor {
    const backend = this.backend;
    if (this.#cachedFor !== backend) this.#dropCopies(backend); // the default changed (after `ready()`)
    const cpu = this.#params.get(name);
    if (!cpu) throw new Error(`${this.constructor.name}: no parameter named '${name}'`);
    if (cpu.device !== 'cpu') {
      if (backend.owns(cpu)) return cpu;
      throw this.#elsewhere(name, cpu, backend);
    }
    let t = this.#onBackend.get(name);
    if (t && t !== cpu && this.#copiedAt.get(name) !== cpu.version) {
      t.dispose();
      t = undefined;
    }
    if (!t) {
      t = backend.fromCpu(cpu);
      this.#onBackend.set(name, t);
      this.#copiedAt.set(name, cpu.version);
    }
    return t;
  }

  /**
   * Called by a forward that records the autograd graph (training) on a device backend (WebGPU): this
   * module's own parameters that require grad move to that device, as PyTorch's `module.to(device)` moves
   * them. The tensors stay the same objects (optimizers made earlier keep them), their storage becomes the
   * device copy, so their `.grad` and the optimizer's steps stay on the device and nothing is read back.
   * Read a moved parameter with `await p.data()`; `await module.toAsync(cpuBackend)` brings them back.
   */
  protected residentParameters(): void {
    const backend = this.backend;
    if (backend.device === 'cpu') return;
    for (const [name, p] of this.#params) {
      if (!p.requiresGrad || p.device !== 'cpu') continue;
      const copy = this.parameter(name);
      this.#cpuStorage.set(name, { storage: p.storage, version: p.version });
      p._setStorage(copy.storage as typeof p.storage);
      this.#onBackend.set(name, p);
    }
  }

  /** The error for a parameter that lives on a device `backend` does not own. */
  #elsewhere(name: string, p: Tensor, backend: Backend): Error {
    return new Error(
      `${this.constructor.name}: the parameter '${name}' was trained on '${p.device}' and lives there, but the ` +
        `module runs on '${backend.label}'; move the module with \`await module.toAsync(backend)\`, which reads ` +
        'the parameters back',
    );
  }

  /** The CPU parameter `name` (the source of truth), for modules that compute on the CPU. */
  protected cpuParameter(name: string): Tensor<'float32'> {
    const t = this.#params.get(name);
    if (!t) throw new Error(`${this.constructor.name}: no parameter named '${name}'`);
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
   * `withUploads` for a training forward: the copies of CPU arguments live on (the collector frees them),
   * since the backward reads them; the module's parameters move to the backend first (`residentParameters`).
   */
  protected withTrainingUploads<R>(f: (on: (t: Tensor, what: string) => Tensor) => R): R {
    this.residentParameters();
    return f((t, what) => this.onBackend(t, what));
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
   * `loadStateDict`'s error; null when there is nothing to add. Subclasses override it. `dict` holds the
   * keys meant for this module, without its prefix (`weight_hh_l0`, not `rnn.weight_hh_l0`).
   */
  protected stateDictMismatch(_dict: ReadonlyMap<string, unknown>): string | null {
    return null;
  }

  /** Every module of the tree with its dotted path, pre-order, shared modules repeated (as state_dict walks). */
  #tree(path: string): [string, Module][] {
    const out: [string, Module][] = [[path, this]];
    for (const [name, child] of this.#children) out.push(...child.#tree(path ? `${path}.${name}` : name));
    return out;
  }

  /**
   * `[name, parameter]` pairs (CPU tensors) like PyTorch's `named_parameters()`: this module's own in
   * registration order, then each child's with its dotted prefix (`rnn.weight_ih_l0`); a tensor shared by
   * two paths is listed once.
   */
  namedParameters(): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules()) {
      for (const [name, t] of m.#params) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([path ? `${path}.${name}` : name, t]);
      }
    }
    return out;
  }

  /** The parameters in `namedParameters()` order (CPU tensors). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /**
   * `[path, module]` for this module (path `''`) and every descendant, pre-order (`rnn`, `rnn.cell`, …),
   * like PyTorch's `named_modules()`; a module registered twice is listed once.
   */
  namedModules(): [string, Module][] {
    return firstOfEach(this.#tree(''));
  }

  /** `this` and every descendant in `namedModules()` order. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** `[name, child]` for the direct children, in registration order (PyTorch's `named_children()`). */
  namedChildren(): [string, Module][] {
    return firstOfEach([...this.#children]);
  }

  /** The direct children, in registration order. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /**
   * Parameter name → tensor with PyTorch's keys: this module's own parameters, then each child's under
   * `name.` in registration order (`embed.weight`, `rnn.weight_ih_l0`, …, `head.bias`), as
   * `model.state_dict()` orders them. The tensors are the module's own: do not mutate.
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [path, m] of this.#tree('')) {
      for (const [name, t] of m.#params) out[path ? `${path}.${name}` : name] = t;
    }
    return out;
  }

  /**
   * Copies parameters from `dict` (PyTorch's key names and shapes, dotted for submodules). Every problem
   * is reported in one error and nothing is loaded then: missing and unexpected keys (under `strict`, the
   * default; keys for a submodule that does not exist name the children there) and shape mismatches
   * (always). With `prefix`, only the keys under it are loaded into this module.
   */
  loadStateDict(
    dict: Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>,
    options: LoadStateDictOptions = {},
  ): LoadStateDictResult {
    const owner = this.constructor.name;
    if (options === null || typeof options !== 'object') {
      throw new TypeError(
        `${owner}.loadStateDict: options must be an object like { strict: false }, received ${describeForError(options)}`,
      );
    }
    if (dict === null || typeof dict !== 'object') {
      throw new TypeError(
        `${owner}.loadStateDict: expected a state dict (an object or Map of name → Tensor), received ${describeForError(dict)}`,
      );
    }
    const { strict = true, prefix = '' } = options;
    if (typeof prefix !== 'string' || (prefix !== '' && !prefix.endsWith('.'))) {
      throw new TypeError(
        `${owner}.loadStateDict: prefix must be a string ending in '.' (like 'rnn.'), received ${
          typeof prefix === 'string' ? `'${prefix}'` : describeForError(prefix)
        }`,
      );
    }
    const all: Map<string, unknown> = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const entries = prefix ? new Map([...all].filter(([k]) => k.startsWith(prefix))) : all;
    if (prefix && entries.size === 0) {
      const roots = [...new Set([...all.keys()].map((k) => `${k.split('.')[0]}.`))];
      throw new Error(
        `${owner}.loadStateDict: no key of the state dict starts with '${prefix}' ` +
          `(the keys start with ${roots.length ? quoteAll(roots) : 'nothing: the dict is empty'})`,
      );
    }
    const tree = this.#tree('');
    const expected = new Map<string, [Module, string, Tensor]>();
    for (const [path, m] of tree) {
      for (const [name, t] of m.#params)
        expected.set(`${prefix}${path ? `${path}.` : ''}${name}`, [m, name, t]);
    }
    const missingKeys = [...expected.keys()].filter((k) => !entries.has(k));
    const unexpectedKeys = [...entries.keys()].filter((k) => !expected.has(k));
    const problems: string[] = [];
    if (strict && missingKeys.length)
      problems.push(`Missing key(s) in state_dict: ${quoteAll(missingKeys)}.`);
    if (strict && unexpectedKeys.length) {
      problems.push(`Unexpected key(s) in state_dict: ${quoteAll(unexpectedKeys)}.`);
      for (const key of unexpectedKeys) {
        const why = this.#noSubmodule(key.slice(prefix.length), prefix);
        if (why) problems.push(why);
      }
    }
    const loads: [Module, string, Tensor<'float32'>][] = [];
    for (const [key, [m, name, current]] of expected) {
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
        loads.push([m, name, Tensor.fromArray(cpuData(value).slice(), value.shape)]);
      }
    }
    if (problems.length) {
      const hints: string[] = [];
      for (const [path, m] of tree) {
        const own = `${prefix}${path ? `${path}.` : ''}`;
        const local = new Map<string, unknown>();
        for (const [k, v] of entries) if (k.startsWith(own)) local.set(k.slice(own.length), v);
        const hint = m.stateDictMismatch(local);
        if (hint) hints.push(path ? `In ${path} (${m.constructor.name}): ${hint}` : hint);
      }
      throw new Error(
        `Error(s) in loading state_dict for ${owner}:\n\t${problems.join('\n\t')}` +
          (hints.length ? `\n${hints.join('\n')}` : ''),
      );
    }
    for (const [m, name, value] of loads) m.#setParameter(name, value);
    return { missingKeys, unexpectedKeys };
  }

  /**
   * For a dotted key (relative to this module) whose path leaves the tree, the sentence that says where;
   * null when its path names existing modules (the last part is then merely an unknown parameter).
   */
  #noSubmodule(key: string, prefix: string): string | null {
    const parts = key.split('.');
    let m: Module = this;
    let path = '';
    for (const part of parts.slice(0, -1)) {
      const child = m.#children.get(part);
      if (!child) {
        const names = [...m.#children.keys()];
        const where = path ? `${path} (${m.constructor.name})` : m.constructor.name;
        return (
          `"${prefix}${key}" is for a submodule '${path ? `${path}.` : ''}${part}', but ${where} has ` +
          (names.length
            ? `no child '${part}' (its children: ${names.map((n) => `'${n}'`).join(', ')}).`
            : 'no children.')
        );
      }
      m = child;
      path = path ? `${path}.${part}` : part;
    }
    return null;
  }

  /** Sets training mode (dropout active) or, with `false`, evaluation mode, here and in every descendant. */
  train(mode = true): this {
    this.training = mode;
    for (const child of this.#children.values()) child.train(mode);
    return this;
  }

  /** Evaluation mode: same as `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Computes on `backend` from now on, with every descendant; parameters are copied to it lazily, once.
   * Parameters that moved to a device to train there (see `residentParameters`) come back synchronously
   * only if no step changed them and no gradient reached them since; otherwise this throws and
   * `await toAsync(backend)` is the way.
   */
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
    for (const [name, p] of this.#params) {
      if (p.device === 'cpu' || backend.owns(p)) continue;
      const kept = this.#cpuStorage.get(name);
      const gradThere = p.grad !== null && p.grad.device !== 'cpu';
      if (!kept || kept.version !== p.version || gradThere) throw this.#elsewhere(name, p, backend);
      const moved = p.storage;
      p._setStorage(kept.storage as typeof p.storage);
      this.#cpuStorage.delete(name);
      this.#onBackend.delete(name);
      moved.dispose();
    }
    if (backend !== this.#backend) {
      this.#dropCopies(backend);
      this.#backend = backend;
    }
    for (const child of this.#children.values()) child.to(backend);
    return this;
  }

  /**
   * `to(backend)` for a module whose parameters were trained on a device (WebGPU): each parameter that
   * `backend` does not own is read back (one readback per parameter, and one for its `.grad`) and put on
   * the CPU first, keeping the tensor objects; then `to(backend)`. After it, `stateDict()` is readable.
   * An optimizer's state stays where it was made (as in PyTorch): make a new optimizer to go on training.
   *
   * @example
   * await model.toAsync(cpuBackend);
   * const bytes = saveSafetensors(model.stateDict());
   */
  async toAsync(backend: Backend): Promise<this> {
    for (const m of this.modules()) {
      for (const [name, p] of m.#params) {
        if (p.device === 'cpu' || backend?.owns?.(p)) continue;
        const data = (await p.data()) as Float32Array;
        const grad = p.grad;
        if (grad !== null && grad.device !== 'cpu') {
          p.grad = Tensor.fromArray(((await grad.data()) as Float32Array).slice(), grad.shape);
        }
        const moved = p.storage;
        p._setStorage(new CpuStorage<'float32'>(data.slice()));
        m.#cpuStorage.delete(name);
        m.#onBackend.delete(name);
        moved.dispose();
      }
    }
    return this.to(backend);
  }
}

function quoteAll(keys: string[]): string {
  return keys.map((k) => `"${k}"`).join(', ');
}

/** The pairs whose module has not appeared before (PyTorch's `remove_duplicate`). */
function firstOfEach(pairs: [string, Module][]): [string, Module][] {
  const seen = new Set<Module>();
  const out: [string, Module][] = [];
  for (const [name, m] of pairs) {
    if (seen.has(m)) continue;
    seen.add(m);
    out.push([name, m]);
  }
  return out;
}
