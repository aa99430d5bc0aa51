import { type BackwardOptions, runBackward } from './autograd/engine.js';
import { isGradEnabled } from './autograd/grad-mode.js';
import { bumpVersion, type Node, needsGrad, record, versionOf } from './autograd/node.js';
import { format } from './format.js';
import { checkShape, formatShape, normalizeDim, numelOf, type Shape, shapesEqual } from './shape.js';
import { type ArrayOf, CpuStorage, type DType, type Storage } from './storage.js';

/**
 * An n-dimensional array, row-major and contiguous, like a contiguous PyTorch tensor. `D` is the dtype:
 * `'float32'` (the default, so a plain `Tensor` is a float32 tensor) or `'int32'` (`Tensor<'int32'>`,
 * what `argmax`, `max(t, dim)` and `topk` return as indices). `data()`/`dataSync()` are typed by it:
 * Float32Array for a `Tensor`, Int32Array for a `Tensor<'int32'>`; `Tensor<DType>` accepts either.
 * Tensors are immutable values: ops return new tensors (shape-only ops such as `reshape` share storage);
 * the few in-place methods end in `_` (`copy_`, `fill_`, `zero_`) and bump the storage's version.
 *
 * Autograd as PyTorch's: a float32 leaf made with `{ requiresGrad: true }` (or `requiresGrad_()`) records
 * the ops applied to it; `loss.backward()` fills `.grad` of every leaf that requires grad.
 *
 * @see {@link https://pytorch.org/docs/1.13/tensors.html | torch.Tensor}
 */
export class Tensor<D extends DType = DType> {
  readonly shape: Shape;
  #storage: Storage<D>;
  /** The element type, `'float32'` or `'int32'` (from the storage; storage without one is float32). */
  readonly dtype: D;
  /**
   * The accumulated gradient (PyTorch's `.grad`): on leaves that require grad after `backward()`, on
   * non-leaves only after `retainGrad()`; null before. Backward calls add into it; set it to null to reset.
   */
  grad: Tensor<'float32'> | null = null;
  /** @internal Whether this leaf requires grad (true for every tensor with a `gradFn`). */
  _requiresGrad = false;
  /** @internal The node that made this tensor. */
  _gradFn: Node | null = null;
  /** @internal Which output of `_gradFn` this is (PyTorch's `output_nr`). */
  _outputNr = 0;

  constructor(storage: Storage<D>, shape: Shape) {
    checkShape(shape);
    if (numelOf(shape) !== storage.length) {
      throw new RangeError(
        `Tensor: shape ${formatShape(shape)} needs ${numelOf(shape)} elements, storage holds ${storage.length}`,
      );
    }
    this.shape = Object.freeze([...shape]);
    this.#storage = storage;
    this.dtype = storage.dtype ?? ('float32' as D);
  }

  /** Wraps a Float32Array or an Int32Array (not copied) as a CPU tensor of that dtype and the given shape. */
  static fromArray(array: Float32Array, shape: Shape): Tensor<'float32'>;
  static fromArray(array: Int32Array, shape: Shape): Tensor<'int32'>;
  static fromArray<D extends DType>(array: ArrayOf<D>, shape: Shape): Tensor<D>;
  static fromArray<D extends DType>(array: ArrayOf<D>, shape: Shape): Tensor<D> {
    return new Tensor<D>(new CpuStorage<D>(array), shape);
  }

  /** Where the elements live (a `CpuStorage`, or a backend's storage such as a GPU buffer). */
  get storage(): Storage<D> {
    return this.#storage;
  }

  /**
   * @internal Puts this tensor's elements in `storage` (same length and dtype), keeping the tensor, its
   * `.grad` and its version: how a module moves a parameter to the device it trains on, the way PyTorch's
   * `Module.to()` sets `param.data`. The old storage is not disposed.
   */
  _setStorage(storage: Storage<D>): void {
    if (storage.length !== this.#storage.length || (storage.dtype ?? 'float32') !== this.dtype) {
      throw new RangeError(
        `_setStorage: expected ${this.#storage.length} ${this.dtype} elements, received ${storage.length} ${storage.dtype ?? 'float32'}`,
      );
    }
    storage.version = this.version;
    this.#storage = storage;
  }

  /** The node that made this tensor (PyTorch's `grad_fn`, e.g. `gradFn.name === 'MulBackward0'`); null for leaves. */
  get gradFn(): Node | null {
    return this._gradFn;
  }

  /** Whether gradients flow to this tensor: set on leaves, true for every result of a recorded op. */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  set requiresGrad(flag: boolean) {
    this.requiresGrad_(flag);
  }

  /**
   * Sets `requiresGrad` on a leaf (PyTorch's `requires_grad_()`) and returns the tensor. Only float32
   * tensors can require grad; a non-leaf cannot be switched off (use `detach()`).
   */
  requiresGrad_(flag = true): this {
    if (this._gradFn !== null) {
      if (flag) return this;
      throw new Error(
        "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().",
      );
    }
    if (flag && this.dtype !== 'float32') {
      throw new TypeError('only Tensors of floating point dtype can require gradients');
    }
    this._requiresGrad = flag;
    return this;
  }

  /** Whether this is a leaf of the graph (PyTorch's `is_leaf`): made by the user, not by a recorded op. */
  get isLeaf(): boolean {
    return this._gradFn === null;
  }

  /** Whether a non-leaf keeps its `.grad` (after `retainGrad()`). */
  get retainsGrad(): boolean {
    return this._gradFn !== null && this._gradFn.retained[this._outputNr] === this;
  }

  /** The storage's version counter (PyTorch's `_version`): how many in-place writes it has seen. */
  get version(): number {
    return versionOf(this);
  }

  /**
   * Backpropagates from this tensor (PyTorch's `backward`): adds d(this)/d(leaf) · `gradient` into the
   * `.grad` of every leaf that requires grad. `gradient` (same shape) may be omitted for a one-element
   * tensor. The graph's saved tensors are freed unless `options.retainGraph`.
   */
  backward(gradient?: Tensor, options?: BackwardOptions): void {
    runBackward(this as Tensor<'float32'>, gradient, options);
  }

  /** Keeps `.grad` on this non-leaf after backward (PyTorch's `retain_grad()`); a no-op on leaves. */
  retainGrad(): void {
    if (!this._requiresGrad) throw new Error("can't retain_grad on Tensor that has requires_grad=False");
    if (this._gradFn !== null) this._gradFn.retained[this._outputNr] = this as Tensor<'float32'>;
  }

  /** The same data (shared storage and version counter) cut from the graph: a leaf that does not require grad. */
  detach(): Tensor<D> {
    return new Tensor(this.storage, this.shape);
  }

  /** @internal Makes this tensor the output of `node` (ops call it through `record`). */
  _attach(node: Node, outputNr: number): void {
    this._gradFn = node;
    this._outputNr = outputNr;
    this._requiresGrad = true;
  }

  /**
   * Copies `src` (same shape and dtype) into this tensor in place (PyTorch's `copy_`) and bumps its version.
   * Refused on a tensor that requires grad while grad mode is on (wrap optimizer updates in `noGrad`).
   */
  copy_(src: Tensor<D>): this {
    this.checkInPlace('copy_');
    if (src.dtype !== this.dtype || !shapesEqual(src.shape, this.shape)) {
      throw new RangeError(
        `copy_: expected a ${this.dtype} tensor of shape ${formatShape(this.shape)}, received ${src.dtype} ${formatShape(src.shape)}`,
      );
    }
    (cpuArray(this, 'copy_') as Float32Array | Int32Array).set(cpuArray(src, 'copy_'));
    bumpVersion(this);
    return this;
  }

  /** Sets every element to `value` in place (PyTorch's `fill_`; on a device, by its ops) and bumps the version. */
  fill_(value: number): this {
    this.checkInPlace('fill_');
    const ops = this.storage.ops;
    if (ops && this.dtype === 'float32') ops.fill(this as Tensor<'float32'>, value);
    else (cpuArray(this, 'fill_') as Float32Array | Int32Array).fill(value);
    bumpVersion(this);
    return this;
  }

  /** Sets every element to zero in place (PyTorch's `zero_`) and bumps the version. */
  zero_(): this {
    return this.fill_(0);
  }

  private checkInPlace(op: string): void {
    if (!isGradEnabled() || !this._requiresGrad) return;
    if (this._gradFn === null) {
      throw new Error('a leaf Variable that requires grad is being used in an in-place operation.');
    }
    throw new Error(`${op}: in-place operations on tensors that are part of a graph are not supported`);
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /**
   * PyTorch's `size()`: the shape, or the size of one dimension (`dim` may be negative).
   * The element count is `numel()`.
   */
  size(): Shape;
  size(dim: number): number;
  size(dim?: number): Shape | number {
    if (dim === undefined) return this.shape;
    if (this.ndim === 0) {
      throw new RangeError(`size: dimension specified as ${dim} but tensor has no dimensions`);
    }
    return this.shape[normalizeDim(dim, this.ndim, 'size')] as number;
  }

  /** `'cpu'` or the backend the data lives on. */
  get device(): string {
    return this.storage.device;
  }

  /** PyTorch's `numel()`: the number of elements. */
  numel(): number {
    return this.storage.length;
  }

  /** PyTorch's `dim()`. */
  dim(): number {
    return this.shape.length;
  }

  /**
   * The elements, row-major (Float32Array, or Int32Array for an int32 tensor). Works for every backend
   * (GPU tensors are read back). For CPU tensors this is the tensor's own buffer: treat it as read-only.
   */
  data(): Promise<ArrayOf<D>> {
    return this.storage.read();
  }

  /**
   * The elements, row-major, synchronously; throws for GPU-resident tensors (use `await data()`).
   * Writing through the returned array bypasses autograd's version check: write with `copy_`/`fill_`.
   */
  dataSync(): ArrayOf<D> {
    return this.storage.readSync();
  }

  /**
   * A float32 copy (PyTorch's `t.float()`); int32 values convert exactly up to 2^24. A float32 tensor that
   * requires grad keeps its graph (recorded as `t.to(torch.float32, copy=True)`, ToCopyBackward0).
   */
  float(): Tensor<'float32'> {
    const out = Tensor.fromArray(Float32Array.from(this.dataSync()), this.shape);
    return needsGrad(this) ? record(out, 'ToCopyBackward0', [this], [], (g) => [g]) : out;
  }

  /**
   * An int32 copy (PyTorch's `t.int()`): float values truncate toward zero; NaN, ±Infinity and values
   * outside the int32 range become -2147483648, as x86 CPUs convert them.
   */
  int(): Tensor<'int32'> {
    return Tensor.fromArray(toInt32Array(this.dataSync()), this.shape);
  }

  /** Nested arrays of numbers, like PyTorch's `tolist()` (synchronous: CPU tensors only). */
  tolist(): NestedArray {
    const data = this.dataSync();
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return data[offset] as number;
      const n = this.shape[dim] as number;
      const inner = numelOf(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(dim + 1, offset + i * inner));
      return out;
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor (PyTorch's `item()`). */
  item(): number {
    if (this.numel() !== 1) {
      throw new RangeError(`item(): a Tensor with ${this.numel()} elements cannot be converted to a number`);
    }
    return this.dataSync()[0] as number;
  }

  /** Releases backend memory (GPU buffers); a no-op for CPU tensors. */
  dispose(): void {
    this.storage.dispose();
  }

  /** PyTorch's print format: `tensor([[ 0.1000, -2.0000]])`, `tensor([5, 9], dtype=torch.int32)`. CPU tensors only. */
  toString(): string {
    if (this.device !== 'cpu') return `Tensor(shape=${formatShape(this.shape)}, device='${this.device}')`;
    return format(this);
  }
}

/**
 * Numbers converted to int32 as C's float-to-int cast on x86 does: truncation toward zero, and
 * -2147483648 for NaN, ±Infinity and anything outside the int32 range.
 */
export function toInt32Array(x: ArrayLike<number>): Int32Array {
  const out = new Int32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = Math.trunc(x[i] as number);
    out[i] = v >= -2147483648 && v <= 2147483647 ? v : -2147483648;
  }
  return out;
}

/** Nested number arrays as `tensor()` accepts and `tolist()` returns. */
export type NestedArray = number | NestedArray[];

function checkCpu(t: Tensor<DType>, op: string): void {
  if (!(t instanceof Tensor)) {
    throw new TypeError(`${op}: expected a Tensor, received ${t === null ? 'null' : typeof t}`);
  }
  if (!(t.storage instanceof CpuStorage)) {
    throw new Error(
      `${op}: this tensor lives on '${t.device}', and @recurrent/tensor ops run on the CPU; ` +
        `read it with \`await t.data()\` and make a CPU tensor, or run the op on its backend`,
    );
  }
}

/**
 * The Float32Array of a float32 CPU tensor, for ops that compute on the CPU.
 * Throws a clear error for tensors on another backend, and a TypeError for int32 tensors (float ops do
 * not promote integers: convert with `t.float()` or `toFloat(t)`).
 */
export function cpuData(t: Tensor, op = 'op'): Float32Array {
  checkCpu(t, op);
  if (t.dtype !== 'float32') {
    throw new TypeError(
      `${op}: expected a float32 tensor, received ${t.dtype} (convert it with t.float() or toFloat(t))`,
    );
  }
  return (t.storage as CpuStorage).array;
}

/** The typed array of a CPU tensor of any dtype, for ops that only move or compare elements. */
export function cpuArray<D extends DType>(t: Tensor<D>, op = 'op'): ArrayOf<D> {
  checkCpu(t, op);
  return (t.storage as CpuStorage<D>).array;
}

/** The Int32Array of an int32 CPU tensor (an index argument); a TypeError names `what` otherwise. */
export function cpuIndex(t: Tensor<DType>, op: string, what = 'index'): Int32Array {
  checkCpu(t, op);
  if (t.dtype !== 'int32') {
    throw new TypeError(`${op}: expected ${what} to be an int32 tensor, received ${t.dtype}`);
  }
  return (t.storage as CpuStorage<'int32'>).array;
}
