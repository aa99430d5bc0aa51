import { cpuData, cpuIndex, fillBernoulli, type Generator, sgemm, Tensor } from '@recurrent/tensor';

/**
 * The backward formulas of the head ops on CPU tensors (`Linear`, `Embedding`, `Dropout`), each the rule
 * beside its forward: one GEMM per operand for `linear`, a scatter-add for `embedding`, the saved mask for
 * `dropout`. They run inside the autograd engine, with grad mode off.
 */

/** `y = x·Wᵀ + b` over rows of x `(R, K)`: dx = g·W `(R, K)`, dW = gᵀ·x `(N, K)`, db = Σ_rows g `(N)`. */
export function linearBackward(
  input: Tensor,
  weight: Tensor,
  hasBias: boolean,
  grad: Tensor,
  needs: readonly boolean[],
): (Tensor<'float32'> | null)[] {
  const [N = 0, K = 0] = weight.shape;
  const R = input.numel() / Math.max(1, K);
  const g = cpuData(grad, 'linear grad');
  const ld = (n: number) => Math.max(1, n);
  let dx: Tensor<'float32'> | null = null;
  if (needs[0]) {
    const out = new Float32Array(R * K);
    sgemm(false, false, R, K, N, 1, g, 0, ld(N), cpuData(weight, 'weight'), 0, ld(K), 0, out, 0, ld(K));
    dx = Tensor.fromArray(out, [...input.shape]);
  }
  let dw: Tensor<'float32'> | null = null;
  if (needs[1]) {
    const out = new Float32Array(N * K);
    sgemm(true, false, N, K, R, 1, g, 0, ld(N), cpuData(input, 'input'), 0, ld(K), 0, out, 0, ld(K));
    dw = Tensor.fromArray(out, [N, K]);
  }
  let db: Tensor<'float32'> | null = null;
  if (hasBias && needs[2]) {
    const acc = new Float64Array(N);
    for (let r = 0; r < R; r++)
      for (let j = 0; j < N; j++) acc[j] = (acc[j] as number) + (g[r * N + j] as number);
    db = Tensor.fromArray(Float32Array.from(acc), [N]);
  }
  return [dx, dw, db];
}

/** `weight[indices]`: dW[i] = Σ of the gradient rows that picked row i; the padding row gets none. */
export function embeddingBackward(
  indices: Tensor,
  weightShape: readonly number[],
  paddingIdx: number | null,
  grad: Tensor,
): Tensor<'float32'> {
  const [n = 0, D = 0] = weightShape;
  const ids = cpuIndex(indices as Tensor<'int32'>, 'Embedding', 'indices');
  const g = cpuData(grad, 'embedding grad');
  const out = new Float32Array(n * D);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (id === paddingIdx) continue;
    for (let j = 0; j < D; j++) out[id * D + j] = (out[id * D + j] as number) + (g[i * D + j] as number);
  }
  return Tensor.fromArray(out, [n, D]);
}

/**
 * `dropoutCpu`'s numbers (same draws, same float32 scale), also returning the multiplier of each element
 * (mask · scale, or 0 for p = 1), which is the backward: dx = g ⊙ multiplier.
 */
export function dropoutTrainCpu(
  input: Tensor,
  p: number,
  generator: Generator,
): { output: Tensor<'float32'>; multiplier: Float32Array } {
  const x = cpuData(input, 'dropout input');
  const out = new Float32Array(x.length);
  const mult = new Float32Array(x.length);
  if (p === 1) {
    for (let i = 0; i < x.length; i++) out[i] = (x[i] as number) * 0;
    return { output: Tensor.fromArray(out, input.shape), multiplier: mult };
  }
  fillBernoulli(mult, 1 - p, generator);
  const scale = Math.fround(1 / Math.fround(1 - p));
  for (let i = 0; i < x.length; i++) {
    mult[i] = (mult[i] as number) * scale;
    out[i] = (x[i] as number) * (mult[i] as number);
  }
  return { output: Tensor.fromArray(out, input.shape), multiplier: mult };
}

/** `g ⊙ multiplier`, shaped like g. */
export function dropoutBackward(grad: Tensor, multiplier: Float32Array): Tensor<'float32'> {
  const g = cpuData(grad, 'dropout grad');
  const out = new Float32Array(g.length);
  for (let i = 0; i < g.length; i++) out[i] = (g[i] as number) * (multiplier[i] as number);
  return Tensor.fromArray(out, grad.shape);
}
