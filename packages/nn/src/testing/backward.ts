// The backward the gradient tests run on every backend, CPU or device.
import { add, mul, sum, type Tensor } from '@recurrent/tensor';
import type { Backend } from '../backend/types.js';

/**
 * Backpropagates `loss = Σ_k sum(outs[k] ⊙ r[k])` (`r` on the CPU): as that loss on the CPU; on a device,
 * where the tensor ops do not run, as `r[k]` given to each output's backward with the graph kept until
 * the last, which accumulates the same gradients into the leaves.
 */
export function backwardWeighted(backend: Backend, outs: readonly Tensor[], r: readonly Tensor[]): void {
  if (backend.device !== 'cpu') {
    outs.forEach((o, k) => {
      o.backward(backend.fromCpu(r[k] as Tensor), { retainGraph: k < outs.length - 1 });
    });
    return;
  }
  let loss = sum(mul(outs[0] as Tensor, r[0] as Tensor));
  for (let i = 1; i < outs.length; i++) loss = add(loss, sum(mul(outs[i] as Tensor, r[i] as Tensor)));
  loss.backward();
}
