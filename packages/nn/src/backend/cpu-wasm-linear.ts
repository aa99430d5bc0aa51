import { gemmPackFloats, packedGemmJob, type WasmExecutor } from '@recurrent/kernels-wasm';
import { cpuData, Tensor } from '@recurrent/tensor';
import { columnSums, packBuffers, weightGemm } from './cpu-wasm-grad-back.js';
import { splitRows } from './cpu-wasm-plan.js';
import { PARALLEL_MIN_FLOPS, projectionJobs } from './cpu-wasm-rnn.js';
import type { PreparedWeights } from './cpu-wasm-weights.js';
import type { LinearArgs } from './types.js';

/** Rows R, outputs N and inputs K of `linear(args)`: input `(…, K)` as R rows, weight `(N, K)`. */
export function linearSizes({ input, weight }: LinearArgs): { R: number; N: number; K: number } {
  const [N = 0, K = 0] = weight.shape;
  let R = 1;
  for (let i = 0; i < input.shape.length - 1; i++) R *= input.shape[i] as number;
  return { R, N, K };
}

/** The multiply-adds of `linear(args)` (one GEMM), as FLOPs: 2·R·N·K. */
export function linearFlops(args: LinearArgs): number {
  const { R, N, K } = linearSizes(args);
  return 2 * R * N * K;
}

/**
 * The bytes a linear forward (or, `backward`, its backward) adds to the kernels' memory: the weight in the
 * packed form it needs unless prepared, and its scratch. Forward: x (R×K) and y (R×N). Backward, at most:
 * g (R×N), dx (R×K), x (R×K), dW (N×K), db (N), and the weight GEMM's pack buffers (K×R per thread).
 */
export function linearBytes(
  prepared: PreparedWeights,
  args: LinearArgs,
  backward: boolean,
  threads: number,
): number {
  const { R, N, K } = linearSizes(args);
  if (!backward) return prepared.pendingBytes(args.weight, 'blocks') + 4 * (R * K + R * N);
  const scratch = R * N + 2 * R * K + N * K + N + threads * gemmPackFloats(K, R);
  return prepared.pendingBytes(args.weight, 'plain') + 4 * scratch;
}

/**
 * `input·weightᵀ + bias` on the kernels, as a recurrent layer's input projection (`projectionJobs`): W
 * packed once per parameter version, the bias fused, rows split over the threads; a row's numbers do not
 * depend on how many rows there are.
 */
export function wasmLinear(ex: WasmExecutor, prepared: PreparedWeights, args: LinearArgs): Tensor<'float32'> {
  const { input, weight, bias } = args;
  const { R, N, K } = linearSizes(args);
  const w = prepared.transposed(weight, 'blocks', 'weight');
  const b = bias ? prepared.raw(bias, 'bias') : null;
  return ex.arena.withScratch((s) => {
    const x = s.put(cpuData(input, 'linear input'));
    const y = s.alloc(R * N);
    ex.run(projectionJobs(ex, { ih: w, bih: b }, R, N, K, x.at(), y.at(), N));
    return Tensor.fromArray(y.read(), [...input.shape.slice(0, -1), N]);
  });
}

/**
 * The backward of `wasmLinear` for the gradient `grad` of its output, each operand's only if `needs` it
 * (input, weight, bias): dx = g·W (W packed as is, once per version), dW = gᵀ·x, db = the column sums of
 * g (in float64, as the TypeScript backward sums them).
 */
export function wasmLinearBackward(
  ex: WasmExecutor,
  prepared: PreparedWeights,
  args: LinearArgs,
  grad: Tensor,
  needs: readonly boolean[],
): (Tensor<'float32'> | null)[] {
  const { input, weight, bias } = args;
  const { R, N, K } = linearSizes(args);
  const threads = 2 * R * N * K >= PARALLEL_MIN_FLOPS ? ex.threads : 1;
  const plain = needs[0] ? prepared.plain(weight, 'weight') : null;
  return ex.arena.withScratch((s) => {
    const g = s.put(cpuData(grad, 'linear grad'));
    let dx: Tensor<'float32'> | null = null;
    if (plain) {
      const out = s.alloc(R * K);
      ex.run(
        splitRows(R, threads).map((rows) =>
          packedGemmJob({
            M: R,
            N: K,
            K: N,
            a: g.at(),
            sai: N,
            sak: 1,
            b: plain.at(),
            c: out.at(),
            ldc: K,
            rows,
          }),
        ),
      );
      dx = Tensor.fromArray(out.read(), [...input.shape]);
    }
    let dw: Tensor<'float32'> | null = null;
    if (needs[1]) {
      const x = s.put(cpuData(input, 'linear input'));
      const out = s.alloc(N * K);
      weightGemm(ex, packBuffers(s, ex.threads, K, R), N, K, R, g.at(), N, x.at(), K, out);
      dw = Tensor.fromArray(out.read(), [N, K]);
    }
    let db: Tensor<'float32'> | null = null;
    if (bias && needs[2]) db = Tensor.fromArray(columnSums(ex, g.at(), R, N, s.alloc(N), 0), [N]);
    return [dx, dw, db];
  });
}
