import { cpuData, describeForError, enableGrad, noGrad, Tensor } from '@recurrent/tensor';
import { type DeviceTrainingOps, deviceTrainingOps } from '../backend/device-ops.js';

/** The state of one parameter, with PyTorch's keys (`step`, `exp_avg`, `momentum_buffer`, …). */
export type ParamState = Record<string, Tensor | number | null>;

/**
 * A param group as given to an optimizer: its parameters and options overriding the defaults (PyTorch's
 * `{'params': [...], 'lr': 1e-3}`), e.g. `[{ params: head.parameters(), lr: 1e-2 }, { params: rest }]`.
 */
export type ParamGroupInput<O> = { params: Iterable<Tensor> | Tensor } & Partial<O>;

/** What an optimizer takes: parameters (`module.parameters()`), or an array of param groups. */
export type ParamsInput<O> = Iterable<Tensor> | readonly ParamGroupInput<O>[];

/** A param group inside an optimizer: every option set, and `initialLr` once an LR scheduler attached. */
export type ParamGroup<O> = O & { params: Tensor<'float32'>[]; initialLr?: number };

/**
 * `optimizer.stateDict()`, PyTorch's structure and keys: `state` keyed by parameter index (numbered
 * through the groups in order), `param_groups` with snake_case options (`weight_decay`, `initial_lr`) and
 * `params` as those indices. The state's tensors are the optimizer's own: do not mutate.
 */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  param_groups: Record<string, unknown>[];
}

/** Options of `zeroGrad`. */
export interface ZeroGradOptions {
  /** Set the grads to null instead of zeroing them (PyTorch 1.13's default: false). */
  setToNone?: boolean;
}

/** A float32 view of a number (PyTorch casts a Python scalar to the tensor's dtype). */
export const f32: (x: number) => number = Math.fround;

/** `a + alpha·b` as PyTorch's vectorized `add_(b, alpha=…)` computes it: one fused multiply-add in float32. */
export function fma32(b: number, alpha: number, a: number): number {
  return Math.fround(a + alpha * b); // alpha·b of two float32 is exact in float64
}

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function typename(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return typeof x;
}

/**
 * The base of the optimizers, like `torch.optim.Optimizer`: param groups with per-group options, per-
 * parameter state, `zeroGrad`, `step`, `stateDict` / `loadStateDict`. A step updates each parameter in
 * place in its own storage and bumps its version (as `p.add_` does), so modules and their backend copies see it.
 *
 * @see {@link https://pytorch.org/docs/1.13/optim.html#torch.optim.Optimizer | torch.optim.Optimizer}
 */
export abstract class Optimizer<O extends { lr: number }> {
  /** The options every group falls back to. */
  readonly defaults: O;
  /** The groups (PyTorch's `param_groups`): set `paramGroups[i].lr` to change a learning rate. */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state (PyTorch's `optimizer.state`), created at the parameter's first step. */
  state: Map<Tensor, ParamState> = new Map();
  /** PyTorch's keys of the group options that this port does not model, written into `stateDict()`. */
  protected readonly torchExtras: Record<string, unknown>;
  readonly #name: string;

  protected constructor(
    name: string,
    params: ParamsInput<O>,
    defaults: O,
    torchExtras: Record<string, unknown>,
  ) {
    this.#name = name;
    this.defaults = defaults;
    this.torchExtras = torchExtras;
    if (params instanceof Tensor) {
      throw new TypeError(
        `${name}: params argument given to the optimizer should be an iterable of Tensors or dicts, but got Tensor`,
      );
    }
    if (params === null || typeof params !== 'object' || !(Symbol.iterator in params)) {
      throw new TypeError(
        `${name}: params must be an iterable of Tensors or an array of param groups, received ${describeForError(params)}`,
      );
    }
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new Error(`${name}: optimizer got an empty parameter list`);
    // PyTorch's rule: dicts are groups, anything else a list of parameters (a Module included, so it gets
    // the "can only optimize Tensors" message with a hint rather than a message about groups)
    const groups = list.every(isPlainObject)
      ? (list as ParamGroupInput<O>[])
      : [{ params: list as Tensor[] } as unknown as ParamGroupInput<O>];
    for (const g of groups) this.addParamGroup(g);
  }

  /** Adds a group (PyTorch's `add_param_group`): its options default to the optimizer's. */
  addParamGroup(group: ParamGroupInput<O>): void {
    const name = this.#name;
    if (group === null || typeof group !== 'object' || !('params' in group)) {
      throw new TypeError(
        `${name}: a param group must be an object with 'params', received ${describeForError(group)}`,
      );
    }
    if (group.params instanceof Set) {
      throw new TypeError(
        `${name}: optimizer parameters need to be organized in ordered collections, but the ordering of tensors in sets will change between runs. Please use a list instead.`,
      );
    }
    const params = group.params instanceof Tensor ? [group.params] : [...(group.params as Iterable<unknown>)];
    for (const p of params) {
      if (!(p instanceof Tensor)) {
        throw new TypeError(
          `${name}: optimizer can only optimize Tensors, but one of the params is ${typename(p)}` +
            (isModuleLike(p) ? '; pass module.parameters()' : ''),
        );
      }
      if (p.dtype !== 'float32' || (p.device !== 'cpu' && !hasTrainingOps(p))) {
        throw new TypeError(
          `${name}: optimizer can only optimize float32 tensors on the CPU or on a device that trains (module parameters), but one of the params is ${p.dtype} on '${p.device}'`,
        );
      }
      if (!p.isLeaf && !p.retainsGrad) throw new Error(`${name}: can't optimize a non-leaf Tensor`);
    }
    const known = new Set(Object.keys(this.defaults));
    for (const k of Object.keys(group)) {
      if (k !== 'params' && k !== 'initialLr' && !known.has(k)) {
        throw new TypeError(
          `${name}: unknown option '${k}' in a param group; expected one of ${[...known].join(', ')}`,
        );
      }
    }
    const full = { ...this.defaults, ...group, params: params as Tensor<'float32'>[] } as ParamGroup<O>;
    this.checkOptions(full);
    const taken = new Set<Tensor>(this.paramGroups.flatMap((g) => g.params));
    if (params.some((p) => taken.has(p as Tensor))) {
      throw new Error(`${name}: some parameters appear in more than one parameter group`);
    }
    this.paramGroups.push(full);
  }

  /** Throws PyTorch's error for an invalid option (`Invalid learning rate: -1`). */
  protected abstract checkOptions(group: O): void;

  /** Updates the parameters of `group` that have a gradient. */
  protected abstract updateGroup(group: ParamGroup<O>): void;

  /**
   * One optimization step over every group (PyTorch's `step`). With `closure` (re-evaluates the model
   * and returns the loss), it is called first with grad enabled and its result returned.
   */
  step<R = undefined>(closure?: () => R): R | undefined {
    let loss: R | undefined;
    if (closure) loss = enableGrad(closure);
    noGrad(() => {
      const update = (): void => {
        for (const group of this.paramGroups) this.updateGroup(group);
      };
      // parameters on one device: every step's kernels in one submit
      const ops = this.#deviceOfAll();
      if (ops) ops.steps(update);
      else update();
    });
    return loss;
  }

  /** The training ops of the one device the parameters on a device share, or null (none, or several). */
  #deviceOfAll(): DeviceTrainingOps | null {
    let ops: DeviceTrainingOps | null = null;
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (p.device === 'cpu') continue;
        const own = p.storage.ops as DeviceTrainingOps | undefined;
        if (!own || typeof own.steps !== 'function' || (ops && own !== ops)) return null;
        ops = own;
      }
    }
    return ops;
  }

  /** Zeroes every parameter's `.grad` (PyTorch 1.13's default), or sets it to null with `setToNone`. */
  zeroGrad({ setToNone = false }: ZeroGradOptions = {}): void {
    noGrad(() => {
      for (const g of this.paramGroups) {
        for (const p of g.params) {
          if (p.grad === null) continue;
          if (setToNone) p.grad = null;
          else {
            if (p.grad.gradFn !== null) p.grad = p.grad.detach();
            p.grad.zero_();
          }
        }
      }
    });
  }

  /** The parameter's state, created empty at its first use. */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (!s) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }

  /** The gradient's data (negated under `maximize`) of a parameter, or null when it has none. */
  protected gradOf(p: Tensor, maximize: boolean): Float32Array | null {
    if (p.grad === null) return null;
    const g = cpuData(p.grad, `${this.#name}.step`);
    if (!maximize) return g;
    const out = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) out[i] = -(g[i] as number);
    return out;
  }

  /**
   * For a parameter that lives on a device (a module trained there), the device's ops, once its gradient
   * is checked to be there too; null for a CPU parameter (the CPU formulas run).
   */
  protected deviceOps(p: Tensor): DeviceTrainingOps | null {
    if (p.device === 'cpu') return null;
    const ops = deviceTrainingOps(p, `${this.#name}.step`);
    if (p.grad !== null && p.grad.device !== p.device) {
      throw new Error(
        `${this.#name}.step: a parameter on '${p.device}' has its gradient on '${p.grad.device}'; a parameter and its gradient must be on one device`,
      );
    }
    return ops;
  }

  /** PyTorch's `state_dict()`: state keyed by parameter index, snake_case group options. */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    let next = 0;
    const param_groups = this.paramGroups.map((g) => {
      const packed: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) {
        if (k === 'params') continue;
        packed[snake(k)] = Array.isArray(v) ? [...v] : v;
      }
      Object.assign(packed, this.torchExtras);
      if (g.initialLr !== undefined) {
        delete packed.initial_lr;
        packed.initial_lr = g.initialLr;
      }
      packed.params = g.params.map((p) => {
        let i = index.get(p);
        if (i === undefined) {
          i = next++;
          index.set(p, i);
        }
        return i;
      });
      return packed;
    });
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...s };
    }
    return { state, param_groups };
  }

  /**
   * Loads a state dict (PyTorch's `load_state_dict`): the groups must match in number and size; the
   * state's tensors are copied; each group's options are replaced by the saved ones (snake_case or camelCase).
   */
  loadStateDict(dict: OptimizerStateDict): void {
    const name = this.#name;
    const saved = dict?.param_groups;
    if (!Array.isArray(saved) || dict.state === null || typeof dict.state !== 'object') {
      throw new TypeError(
        `${name}.loadStateDict: expected { state, param_groups }, received ${describeForError(dict)}`,
      );
    }
    if (saved.length !== this.paramGroups.length) {
      throw new Error(`${name}.loadStateDict: loaded state dict has a different number of parameter groups`);
    }
    saved.forEach((g, i) => {
      const own = this.paramGroups[i] as ParamGroup<O>;
      if (!Array.isArray(g.params) || g.params.length !== own.params.length) {
        throw new Error(
          `${name}.loadStateDict: loaded state dict contains a parameter group that doesn't match the size of optimizer's group`,
        );
      }
    });
    const byId = new Map<number, Tensor<'float32'>>();
    saved.forEach((g, i) => {
      const own = this.paramGroups[i] as ParamGroup<O>;
      for (const [j, id] of (g.params as number[]).entries())
        byId.set(id, own.params[j] as Tensor<'float32'>);
    });
    const state = new Map<Tensor, ParamState>();
    for (const [id, s] of Object.entries(dict.state)) {
      const p = byId.get(Number(id));
      if (!p) continue;
      const copy: ParamState = {};
      for (const [k, v] of Object.entries(s)) copy[k] = v instanceof Tensor ? cloneState(v, p, k, name) : v;
      state.set(p, copy);
    }
    const known = new Set([...Object.keys(this.defaults), 'initialLr']);
    const groups = saved.map((g, i) => {
      const own = this.paramGroups[i] as ParamGroup<O>;
      const next: Record<string, unknown> = { ...this.defaults };
      for (const [k, v] of Object.entries(g)) {
        const key = camel(k);
        if (key !== 'params' && known.has(key)) next[key] = Array.isArray(v) ? [...v] : v;
      }
      next.params = own.params;
      this.checkOptions(next as O);
      return next as ParamGroup<O>;
    });
    this.paramGroups.splice(0, this.paramGroups.length, ...groups);
    this.state = state;
  }
}

function cloneState(v: Tensor, p: Tensor, key: string, owner: string): Tensor {
  if (key !== 'step' && v.numel() !== p.numel()) {
    throw new Error(
      `${owner}.loadStateDict: state '${key}' has shape [${v.shape.join(', ')}] but its parameter has [${p.shape.join(', ')}]`,
    );
  }
  const shape = key === 'step' ? v.shape : p.shape;
  if (v.device !== 'cpu') {
    // state made on a device (an optimizer that trained there) is copied there, without a readback
    const copy = deviceTrainingOps(v, `${owner}.loadStateDict`).clone(v as Tensor<'float32'>);
    return new Tensor(copy.storage, shape);
  }
  return Tensor.fromArray(Float32Array.from(v.dataSync() as ArrayLike<number>), shape);
}

/** Throws PyTorch's `Invalid <what>: <value>` unless `ok`. */
export function checkOption(owner: string, ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new RangeError(`${owner}: Invalid ${what}: ${describeForError(value)}`);
}

/** A zeroed float32 tensor of `p`'s shape (optimizer state). */
export function zerosOf(p: Tensor): Tensor<'float32'> {
  return Tensor.fromArray(new Float32Array(p.numel()), p.shape);
}

/**
 * The state tensor `key` of a parameter on a device: created there (zeros) at the first step, moved there
 * when it was made on the CPU (a state dict loaded, or steps taken before the parameter moved).
 */
export function deviceState(ops: DeviceTrainingOps, p: Tensor, state: ParamState, key: string): Tensor {
  const t = state[key];
  const out = t instanceof Tensor ? (t.device === 'cpu' ? ops.upload(t) : t) : ops.full(p.shape, 0);
  state[key] = out;
  return out;
}

/** Marks a tensor updated in place (its values written in its own storage): bumps its version, as `copy_` does. */
export function markUpdated(p: Tensor): void {
  p.storage.version = p.version + 1;
}

function hasTrainingOps(p: Tensor): boolean {
  const ops = p.storage.ops as { adamStep?: unknown } | undefined;
  return typeof ops?.adamStep === 'function';
}

function isPlainObject(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isModuleLike(v: unknown): boolean {
  return (
    v !== null && typeof v === 'object' && typeof (v as { parameters?: unknown }).parameters === 'function'
  );
}
