import { fillBernoulli } from '@recurrent/tensor';
import type { DropoutSpec } from './types.js';

/**
 * Inverted dropout on a layer's output. The mask is drawn in sequence-first `(T, N, width)` order,
 * the order PyTorch draws it in (it transposes batch-first inputs before the layers).
 */
export function dropoutInPlace(
  out: Float32Array,
  T: number,
  N: number,
  width: number,
  batchFirst: boolean,
  { p, generator }: DropoutSpec,
): void {
  if (p === 1) {
    // PyTorch multiplies by zero rather than writing zeros, so ±Inf and NaN become NaN
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * 0;
    return;
  }
  const mask = new Float32Array(out.length);
  fillBernoulli(mask, 1 - p, generator);
  const scale = 1 / (1 - p);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) {
      const src = (t * N + n) * width;
      const dst = batchFirst ? (n * T + t) * width : src;
      for (let j = 0; j < width; j++)
        out[dst + j] = (out[dst + j] as number) * (mask[src + j] as number) * scale;
    }
  }
}
