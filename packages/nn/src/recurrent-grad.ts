import {
  anyNeedsGrad,
  isGradEnabled,
  noGrad,
  recordGradFn,
  recordGradFnMulti,
  reshape,
  type Tensor,
} from '@recurrent/tensor';
import { cpuBackend } from './backend/cpu.js';
import type { Backend, RnnArgs, RnnGradOutputs, RnnGrads, RnnResult } from './backend/types.js';

/**
 * How a recurrent module (or cell) becomes one node of the autograd graph: a training forward on the
 * backend (`rnnTrain`, which saves the activations), then ONE multi-output node (PyTorch's
 * `autograd.Function`) over the results the caller returns, whose inputs are the input, h0, c0 and every
 * parameter in PyTorch's order. Its backward is the backend's fused backpropagation through time.
 */
export interface RecurrentTape {
  readonly backend: Backend;
  /** What the backend ran (batched, sorted, on the backend). */
  readonly args: RnnArgs;
  readonly saved: unknown;
}

/**
 * The training forward. A CPU backend without `rnnTrain`/`rnnBackward` (one whose tensors are CPU tensors)
 * trains through the TypeScript one; a device backend (WebGPU) trains on itself, its gradients staying
 * there (the module moved its parameters there first). A device backend without them runs the plain
 * forward: inference keeps working, and the node's backward throws `unsupported` (`tape.saved` is null).
 */
export function trainForward(backend: Backend, args: RnnArgs): RnnResult & { tape: RecurrentTape } {
  const trainer = trainerOf(backend);
  if (!trainer?.rnnTrain) return { ...backend.rnn(args), tape: { backend, args, saved: null } };
  const { result, saved } = trainer.rnnTrain(args);
  return { ...result, tape: { backend: trainer, args, saved } };
}

/** The backend that trains on `backend`'s behalf: itself when it can, `cpuBackend` for a CPU backend that cannot. */
function trainerOf(backend: Backend): Backend | null {
  if (backend.rnnTrain && backend.rnnBackward) return backend;
  return backend.device === 'cpu' ? cpuBackend : null;
}

/** The error of a backward through a recurrent module on a backend that cannot train yet. */
export function unsupported(owner: string, backend: Backend): Error {
  return new Error(
    `${owner}: training (backward) is not supported on backend ${backend.label} yet; ` +
      'train on cpuBackend (module.to(cpuBackend)), or run inference under noGrad()',
  );
}

/** The caller's tensors (edges of the node), in the order the node lists its inputs. */
export interface RecurrentInputs {
  readonly input: Tensor;
  readonly h0: Tensor | null;
  readonly c0: Tensor | null;
  /** Per layer, per direction: `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`, `weight_hr` (CPU; null if absent). */
  readonly params: readonly (readonly (readonly (Tensor | null)[])[])[];
}

export interface RecordOptions {
  /** The module's name for messages (`'LSTM'`, `'GRUCell'`). */
  readonly owner: string;
  readonly tape: RecurrentTape;
  readonly inputs: RecurrentInputs;
  /** The tensors the caller returns: `[output, hN, cN]`, `[h', c']` for cells… (each gets output i). */
  readonly outputs: readonly Tensor<'float32'>[];
  /** PyTorch's grad_fn name of the node (what `hN` prints), and, when it differs, of `outputs[0]`. */
  readonly name: string;
  readonly outputName?: string;
  /** From the gradients of `outputs` (caller's layout) to those of the backend's results. */
  readonly gradOut: (grads: readonly (Tensor<'float32'> | null)[]) => RnnGradOutputs;
  /** From the backend's input gradients to the caller's layout of input (null: not asked for), h0 and c0. */
  readonly gradIn: (g: RnnGrads) => { input: Tensor | null; h0: Tensor; c0: Tensor | null };
}

/**
 * Records the node; returns the outputs to hand to the caller (`outputs[0]` may be replaced by an alias
 * whose grad_fn carries PyTorch's name for it, e.g. `TransposeBackward0` for a batch-first output).
 */
export function recordRecurrent(o: RecordOptions): Tensor<'float32'>[] {
  const { tape, inputs } = o;
  const flat: Tensor[] = [];
  for (const layer of inputs.params) for (const dir of layer) for (const p of dir) if (p) flat.push(p);
  const edges = [inputs.input, inputs.h0, inputs.c0, ...flat];
  const saved = edges.filter((t): t is Tensor => t !== null);
  const backend = tape.backend;
  recordGradFnMulti([...o.outputs], o.name, edges, saved, (grads, needs, retainGraph) => {
    if (!backend.rnnBackward || !backend.rnnTrain || tape.saved === null) throw unsupported(o.owner, backend);
    const rnnBackward = backend.rnnBackward as NonNullable<Backend['rnnBackward']>;
    const g = rnnBackward(tape.args, tape.saved, o.gradOut(grads), {
      retainSaved: retainGraph,
      inputGrad: needs[0] === true,
    });
    const mapped = o.gradIn(g);
    const out: (Tensor<'float32'> | null)[] = [
      needs[0] ? (mapped.input as Tensor<'float32'>) : null,
      needs[1] ? (mapped.h0 as Tensor<'float32'>) : null,
      needs[2] ? (mapped.c0 as Tensor<'float32'> | null) : null,
    ];
    inputs.params.forEach((layer, k) => {
      layer.forEach((dir, d) => {
        const gd = g.layers[k]?.[d];
        const all = [gd?.weightIh, gd?.weightHh, gd?.biasIh, gd?.biasHh, gd?.weightHr];
        dir.forEach((p, i) => {
          if (p) out.push((needs[out.length] ? all[i] : null) ?? null);
        });
      });
    });
    return out;
  });
  const outs = [...o.outputs];
  const first = outs[0];
  if (o.outputName && o.outputName !== o.name && first) {
    const alias = noGrad(() => reshape(first, first.shape));
    outs[0] = recordGradFn(alias, o.outputName, [first], [], (g) => [g]);
  }
  return outs;
}

/** `t` reshaped (sharing storage) without recording, or null. */
export function reshapeGrad(t: Tensor | null, shape: readonly number[]): Tensor | null {
  return t ? noGrad(() => reshape(t, [...shape])) : null;
}

/** The parameter tensors of a `RecurrentBase`-style module, per layer and direction, in PyTorch's order. */
export function recurrentParams(
  get: (name: string) => Tensor,
  numLayers: number,
  suffixes: readonly string[],
  bias: boolean,
  proj: boolean,
): (Tensor | null)[][][] {
  const out: (Tensor | null)[][][] = [];
  for (let layer = 0; layer < numLayers; layer++) {
    out.push(
      suffixes.map((s) => [
        get(`weight_ih_l${layer}${s}`),
        get(`weight_hh_l${layer}${s}`),
        bias ? get(`bias_ih_l${layer}${s}`) : null,
        bias ? get(`bias_hh_l${layer}${s}`) : null,
        proj ? get(`weight_hr_l${layer}${s}`) : null,
      ]),
    );
  }
  return out;
}

/**
 * Whether a module's forward records the autograd graph: grad mode on and an input (or state) requires
 * grad, or, in training mode, a parameter does. In eval mode a forward whose inputs need no gradient
 * records nothing (PyTorch would record one for the parameters), so inference, streams and generation
 * keep today's path with nothing saved.
 */
export function recordsGraph(
  training: boolean,
  inputs: readonly unknown[],
  params: () => readonly unknown[],
): boolean {
  if (!isGradEnabled()) return false;
  return anyNeedsGrad(inputs) || (training && anyNeedsGrad(params()));
}
