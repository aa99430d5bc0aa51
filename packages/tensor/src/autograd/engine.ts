import { formatShape, shapesEqual } from '../shape.js';
import type { DeviceOps } from '../storage.js';
import { cpuData, Tensor } from '../tensor.js';
import { setGradEnabled } from './grad-mode.js';
import { bumpVersion, type Node } from './node.js';

/** Options of `Tensor.backward`. */
export interface BackwardOptions {
  /** Keep the saved tensors so the graph can be backpropagated again (PyTorch's `retain_graph`; false). */
  retainGraph?: boolean;
}

const FREED =
  'Trying to backward through the graph a second time (or directly access saved tensors after they have ' +
  'already been freed). Saved intermediate values of the graph are freed when you call .backward() or ' +
  'autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if ' +
  'you need to access saved tensors after calling backward.';

const torchSize = (shape: readonly number[]): string => `torch.Size([${shape.join(', ')}])`;

/**
 * Reverse mode from `root` (PyTorch's `torch.autograd.backward(root, gradient)`): runs every node that
 * leads to a leaf requiring grad once, newest first among the ready ones (PyTorch's order), without
 * recursion (a graph thousands of nodes deep is fine), and accumulates into the leaves' `.grad`.
 */
export function runBackward(
  root: Tensor<'float32'>,
  gradient: Tensor | undefined,
  options: BackwardOptions = {},
): void {
  const retainGraph = options.retainGraph ?? false;
  if (!root.requiresGrad) {
    throw new Error('element 0 of tensors does not require grad and does not have a grad_fn');
  }
  let seed: Tensor<'float32'>;
  if (gradient === undefined || gradient === null) {
    if (root.numel() !== 1) throw new Error('grad can be implicitly created only for scalar outputs');
    seed =
      root.device === 'cpu'
        ? Tensor.fromArray(Float32Array.of(1), root.shape)
        : deviceOps(root, 'backward').full(root.shape, 1);
  } else {
    if (gradient.device === 'cpu')
      cpuData(gradient, 'backward'); // a float32 CPU tensor
    else deviceOps(gradient, 'backward');
    if (gradient.device !== root.device) {
      throw new Error(
        `backward: the gradient is on '${gradient.device}' but the tensor is on '${root.device}'; pass a gradient on the tensor's device`,
      );
    }
    if (!shapesEqual(gradient.shape, root.shape)) {
      throw new RangeError(
        `Mismatch in shape: grad_output[0] has a shape of ${torchSize(gradient.shape)} and output[0] has a ` +
          `shape of ${torchSize(root.shape)}.`,
      );
    }
    seed = gradient as Tensor<'float32'>;
  }
  const before = setGradEnabled(false);
  try {
    const rootNode = root.gradFn;
    if (rootNode === null) {
      accumulateLeaf(root, seed);
      return;
    }
    execute(rootNode, root, seed, retainGraph);
  } finally {
    setGradEnabled(before);
  }
}

function execute(
  rootNode: Node,
  root: Tensor<'float32'>,
  seed: Tensor<'float32'>,
  retainGraph: boolean,
): void {
  // Dependencies: how many edges from reachable nodes point at each node (iterative DFS).
  const deps = new Map<Node, number>();
  const stack: Node[] = [rootNode];
  deps.set(rootNode, 0);
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    for (const e of node.next) {
      if (e === null || e instanceof Tensor) continue;
      const d = deps.get(e);
      if (d === undefined) {
        deps.set(e, 1);
        stack.push(e);
      } else deps.set(e, d + 1);
    }
  }
  // per node, one gradient buffer per output
  const buffers = new Map<Node, (Tensor<'float32'> | null)[]>();
  const rootGrads = new Array<Tensor<'float32'> | null>(rootNode.numOutputs).fill(null);
  rootGrads[root._outputNr] = seed;
  buffers.set(rootNode, rootGrads);
  const leaves = new Map<Tensor<'float32'>, Tensor<'float32'>>();
  const ready = new NodeHeap();
  ready.push(rootNode);
  while (ready.size > 0) {
    const node = ready.pop();
    const grads = buffers.get(node);
    buffers.delete(node);
    let outs: readonly (Tensor<'float32'> | null)[] = [];
    if (grads !== undefined) {
      grads.forEach((g, k) => {
        const kept = node.retained[k];
        if (g !== null && kept !== null && kept !== undefined) accumulateRetained(kept, g);
      });
      if (node.formula === null) throw new Error(FREED);
      node.checkVersions();
      outs = node.formula(grads, node.needs, retainGraph);
    }
    node.next.forEach((e, i) => {
      if (e === null) return;
      const g = outs[i] ?? null;
      if (g !== null) checkGradient(node, i, g);
      if (e instanceof Tensor) {
        if (g !== null) leaves.set(e, addGrads(leaves.get(e), g));
        return;
      }
      if (g !== null) {
        let buf = buffers.get(e);
        if (buf === undefined) {
          buf = new Array<Tensor<'float32'> | null>(e.numOutputs).fill(null);
          buffers.set(e, buf);
        }
        const k = node.nextOutput[i] as number;
        buf[k] = addGrads(buf[k] ?? undefined, g);
      }
      const left = (deps.get(e) as number) - 1;
      deps.set(e, left);
      if (left === 0) ready.push(e);
    });
    if (!retainGraph) node.release();
  }
  for (const [leaf, g] of leaves) accumulateLeaf(leaf, g);
}

/** PyTorch's validate_outputs: a formula's gradient must have its input's shape. */
function checkGradient(node: Node, i: number, g: Tensor<'float32'>): void {
  const want = node.inputShapes[i];
  if (want && !shapesEqual(g.shape, want)) {
    throw new Error(
      `Function ${node.name} returned an invalid gradient at index ${i} - got ${formatShape(g.shape)} but ` +
        `expected shape compatible with ${formatShape(want)}`,
    );
  }
}

/** The ops of a device tensor's storage; a clear error for a device without them. */
function deviceOps(t: Tensor, op: string): DeviceOps {
  const ops = t.storage.ops;
  if (!ops) {
    throw new Error(
      `${op}: this tensor lives on '${t.device}', whose storage has no device ops for gradients; ` +
        'read it with `await t.data()` and make a CPU tensor, or run the op on its backend',
    );
  }
  if (t.dtype !== 'float32') throw new TypeError(`${op}: expected a float32 tensor, received ${t.dtype}`);
  return ops;
}

/** Gradients from two devices met (a graph mixing backends): PyTorch's device-mismatch error, in words. */
function mixed(a: Tensor, b: Tensor): Error {
  return new Error(
    `backward: gradients on '${a.device}' and on '${b.device}' meet in one graph; a graph must stay on one ` +
      'backend (move the modules and tensors to the same backend)',
  );
}

/** `a + b` for gradient buffers (a new array: either may be aliased by a tensor the user holds). */
function addGrads(a: Tensor<'float32'> | undefined, b: Tensor<'float32'>): Tensor<'float32'> {
  if (a === undefined) return b;
  if (a.device !== b.device) throw mixed(a, b);
  if (a.device !== 'cpu') return deviceOps(a, 'backward').add(a, b);
  const x = cpuData(a, 'backward');
  const y = cpuData(b, 'backward');
  const out = new Float32Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = (x[i] as number) + (y[i] as number);
  return Tensor.fromArray(out, a.shape);
}

/**
 * PyTorch's AccumulateGrad: the first gradient is stored (a copy, so it owns its storage); later ones
 * are added into that same `.grad` tensor in place, so `x.grad` sums over backward calls. On a device
 * the storage's ops do both, without a readback.
 */
function accumulateLeaf(leaf: Tensor<'float32'>, g: Tensor<'float32'>): void {
  const current = leaf.grad;
  if (current === null || !shapesEqual(current.shape, leaf.shape)) {
    if (!shapesEqual(g.shape, leaf.shape)) {
      throw new Error(
        `backward: gradient of shape ${formatShape(g.shape)} for a leaf of shape ${formatShape(leaf.shape)}`,
      );
    }
    leaf.grad = copyOf(g, leaf.shape);
    return;
  }
  if (current.device !== g.device) throw mixed(current, g);
  if (g.device !== 'cpu') {
    deviceOps(g, 'backward').addInPlace(current, g);
    bumpVersion(current);
    return;
  }
  const acc = cpuData(current, 'backward');
  const y = cpuData(g, 'backward');
  for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + (y[i] as number);
  bumpVersion(current);
}

/** PyTorch's retain_grad hook: a copy the first time, then `grad + new` (a new tensor). */
function accumulateRetained(t: Tensor<'float32'>, g: Tensor<'float32'>): void {
  t.grad = t.grad === null ? copyOf(g, t.shape) : addGrads(t.grad, g);
}

/**
 * A gradient's copy with storage of its own, on the gradient's device: a leaf's `.grad` lives where its
 * gradient was computed (a module's parameters move to the device they train on, so there it is theirs).
 */
function copyOf(g: Tensor<'float32'>, shape: readonly number[]): Tensor<'float32'> {
  if (g.device === 'cpu') return Tensor.fromArray(cpuData(g, 'backward').slice(), shape);
  const copy = deviceOps(g, 'backward').clone(g);
  return shapesEqual(copy.shape, shape) ? copy : new Tensor(copy.storage, shape);
}

/** A max-heap of nodes by sequence number: the newest ready node runs first. */
class NodeHeap {
  private readonly items: Node[] = [];
  get size(): number {
    return this.items.length;
  }
  push(node: Node): void {
    const a = this.items;
    a.push(node);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as Node).sequenceNr >= node.sequenceNr) break;
      a[i] = a[p] as Node;
      i = p;
    }
    a[i] = node;
  }
  pop(): Node {
    const a = this.items;
    const top = a[0] as Node;
    const last = a.pop() as Node;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && (a[r] as Node).sequenceNr > (a[l] as Node).sequenceNr ? r : l;
        if ((a[c] as Node).sequenceNr <= last.sequenceNr) break;
        a[i] = a[c] as Node;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
