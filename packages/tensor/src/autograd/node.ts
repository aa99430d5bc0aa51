import { formatShape } from '../shape.js';
import type { DType } from '../storage.js';
import type { Tensor } from '../tensor.js';
import { isGradEnabled } from './grad-mode.js';

/**
 * A backward formula: the output's gradient in, one gradient per input out (null where an input needs
 * none: `needs[i]` says which ones do). It runs with grad mode off, so it may use the ops freely.
 */
export type BackwardFormula = (
  grad: Tensor<'float32'>,
  needs: readonly boolean[],
) => readonly (Tensor<'float32'> | null)[];

/**
 * The formula of a node with several outputs (PyTorch's multi-output functions, e.g. a fused RNN's
 * `output`, `hN`, `cN`): one gradient per output in (null for an output no gradient reached: treat it as
 * zeros), one per input out.
 */
export type MultiBackwardFormula = (
  grads: readonly (Tensor<'float32'> | null)[],
  needs: readonly boolean[],
  /** The backward keeps the graph (`retainGraph`): what the node saved must serve another backward. */
  retainGraph: boolean,
) => readonly (Tensor<'float32'> | null)[];

/** Where an input's gradient goes: the node that made it, the leaf itself (accumulate), or nowhere. */
export type Edge = Node | Tensor<'float32'> | null;

interface Saved {
  tensor: Tensor<DType>;
  version: number;
  /** Saved as the output of the node itself (PyTorch says "which is output 0 of …"). */
  output: boolean;
}

let sequence = 0;

/**
 * A node of the autograd graph (PyTorch's `grad_fn`): how the gradient of one op's output flows to its
 * inputs. `name` is PyTorch's class name (`'MulBackward0'`).
 */
export class Node {
  /** PyTorch's name for this backward (`'MulBackward0'`, `'AddmmBackward0'`, …). */
  readonly name: string;
  /** Creation order; among ready nodes the engine runs the newest first, as PyTorch's does. */
  readonly sequenceNr: number;
  /** Per input of the op: its node, the leaf tensor, or null (no gradient). */
  readonly next: readonly Edge[];
  /** @internal Per input: which output of its node it is (PyTorch's `output_nr`). */
  readonly nextOutput: readonly number[];
  /** @internal Per input: its shape, which its gradient must have. */
  readonly inputShapes: readonly (readonly number[] | null)[];
  /** How many outputs the op made (1 for every op of this package). */
  readonly numOutputs: number;
  /** @internal Whether each input needs a gradient. */
  readonly needs: readonly boolean[];
  /** @internal The formula; null once the graph is freed (only for nodes that saved tensors). */
  formula: MultiBackwardFormula | null;
  /** @internal Tensors the formula reads, with their versions when saved. */
  saved: Saved[];
  /** @internal Whether the formula reads saved tensors (a freed node without any can run again, as in PyTorch). */
  readonly savesTensors: boolean;
  /** @internal Per output: the tensor that called `retainGrad()`, if any. */
  readonly retained: (Tensor<'float32'> | null)[];

  constructor(
    name: string,
    inputs: readonly unknown[],
    numOutputs: number,
    formula: MultiBackwardFormula,
    saved: Saved[],
  ) {
    this.name = name;
    this.sequenceNr = sequence++;
    const next = inputs.map((x): Edge => {
      if (!requires(x)) return null;
      const t = x as Tensor<'float32'>;
      return t.gradFn ?? t;
    });
    this.next = next;
    this.nextOutput = inputs.map((x, i) => (next[i] instanceof Node ? (x as Tensor)._outputNr : 0));
    this.inputShapes = inputs.map((x, i) => (next[i] === null ? null : (x as Tensor).shape));
    this.numOutputs = numOutputs;
    this.retained = new Array<Tensor<'float32'> | null>(numOutputs).fill(null);
    this.needs = next.map((e) => e !== null);
    this.formula = formula;
    this.saved = saved;
    this.savesTensors = saved.length > 0;
  }

  /** The next nodes (PyTorch's `next_functions`): a node, `'AccumulateGrad'` for a leaf, or null. */
  get nextFunctions(): readonly (Node | 'AccumulateGrad' | null)[] {
    return this.next.map((e) => (e === null ? null : e instanceof Node ? e : 'AccumulateGrad'));
  }

  /** `<MulBackward0>`, as PyTorch prints a grad_fn. */
  toString(): string {
    return `<${this.name}>`;
  }

  /** @internal Throws PyTorch's error when a saved tensor was modified in place after it was saved. */
  checkVersions(): void {
    for (const s of this.saved) {
      const now = versionOf(s.tensor);
      if (now !== s.version) {
        const what = `[torch.${s.tensor.dtype === 'int32' ? 'Int' : 'Float'}Tensor ${formatShape(s.tensor.shape)}]`;
        const of = s.output ? `, which is output 0 of ${this.name},` : '';
        throw new Error(
          `one of the variables needed for gradient computation has been modified by an inplace operation: ` +
            `${what}${of} is at version ${now}; expected version ${s.version} instead. Hint: enable anomaly ` +
            `detection to find the operation that failed to compute its gradient, with ` +
            `torch.autograd.set_detect_anomaly(True).`,
        );
      }
    }
  }

  /** @internal Frees what the formula saved (after a backward without `retainGraph`). */
  release(): void {
    if (!this.savesTensors) return;
    this.formula = null;
    this.saved = [];
  }
}

/** A tensor's storage version: bumped by every in-place write (PyTorch's `t._version`). */
export function versionOf(t: Tensor<DType>): number {
  return t.storage.version ?? 0;
}

/** Marks an in-place write to `t`'s storage (every view of it sees the new version). */
export function bumpVersion(t: Tensor<DType>): void {
  t.storage.version = versionOf(t) + 1;
}

/** The one check an op makes before recording: grad mode on and some input requires grad. */
export function needsGrad(a: unknown, b?: unknown, c?: unknown): boolean {
  return isGradEnabled() && (requires(a) || requires(b) || requires(c));
}

/** Whether any tensor of a list requires grad (grad mode on). */
export function anyNeedsGrad(list: readonly unknown[]): boolean {
  return isGradEnabled() && list.some(requires);
}

function requires(x: unknown): boolean {
  return typeof x === 'object' && x !== null && (x as Tensor).requiresGrad === true;
}

/**
 * Makes `out` the output of a new node named `name` over `inputs` (tensors or numbers; only tensors that
 * require grad get an edge). `saved` lists the tensors the formula reads, for the in-place check.
 * Call it only after `needsGrad` said yes.
 */
export function record<T extends Tensor<DType>>(
  out: T,
  name: string,
  inputs: readonly unknown[],
  saved: readonly Tensor<DType>[],
  formula: BackwardFormula,
): T {
  const node = new Node(
    name,
    inputs,
    1,
    (grads, needs) => formula(grads[0] as Tensor<'float32'>, needs),
    saved.map((tensor) => ({ tensor, version: versionOf(tensor), output: tensor === out })),
  );
  out._attach(node, 0);
  return out;
}

/**
 * Makes `outs` the outputs 0, 1, … of one new node (PyTorch's multi-output `autograd.Function`): the way a
 * fused op (a whole RNN layer's forward) records a single backward for all its results. `formula` gets one
 * gradient per output, null where none arrived. Call it only after `needsGrad`/`anyNeedsGrad` said yes.
 */
export function recordMulti(
  outs: readonly Tensor<'float32'>[],
  name: string,
  inputs: readonly unknown[],
  saved: readonly Tensor<DType>[],
  formula: MultiBackwardFormula,
): Node {
  const node = new Node(
    name,
    inputs,
    outs.length,
    formula,
    saved.map((tensor) => ({
      tensor,
      version: versionOf(tensor),
      output: outs.includes(tensor as Tensor<'float32'>),
    })),
  );
  outs.forEach((t, i) => {
    t._attach(node, i);
  });
  return node;
}
