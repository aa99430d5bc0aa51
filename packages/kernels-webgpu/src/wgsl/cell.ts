import { activation, wgslMath } from './math.js';

/** A recurrent cell as the kernels see it: Elman (tanh or relu), LSTM or GRU. */
export type CellKind = 'tanh' | 'relu' | 'lstm' | 'gru';

/** Gate blocks stacked in `W_ih`/`W_hh` (PyTorch's order: LSTM i, f, g, o; GRU r, z, n). */
export const CELL_GATES: Readonly<Record<CellKind, 1 | 3 | 4>> = Object.freeze({
  tanh: 1,
  relu: 1,
  lstm: 4,
  gru: 3,
});

const UPDATE: Record<CellKind, string> = {
  tanh: 'return vec2<f32>(act(gh.x + gx.x), 0.0);',
  relu: 'return vec2<f32>(act(gh.x + gx.x), 0.0);',
  // c' = f⊙c + i⊙g; h' = o⊙tanh(c') (before LSTM's projection)
  lstm: `let i = sigmoid_safe(gh.x + gx.x);
  let f = sigmoid_safe(gh.y + gx.y);
  let g = tanh_safe(gh.z + gx.z);
  let o = sigmoid_safe(gh.w + gx.w);
  let c1 = f * c + i * g;
  return vec2<f32>(o * tanh_safe(c1), c1);`,
  // n = tanh(gx_n + r⊙gh_n), gh_n including b_hn; h' = (h − n)⊙z + n
  gru: `let r = sigmoid_safe(gh.x + gx.x);
  let z = sigmoid_safe(gh.y + gx.y);
  let n = tanh_safe(gx.z + r * gh.z);
  return vec2<f32>((h - n) * z + n, 0.0);`,
};

/**
 * WGSL `fn cell_update(gh, gx, h, c) -> vec2<f32>`: one unit's new `(h, c)` from its gate
 * pre-activations in PyTorch's order of operations, `gh = h_{t−1}·W_hhᵀ + b_hh` and
 * `gx = x_t·W_ihᵀ + b_ih` (gate g in component g), the unit's previous `h` (GRU) and `c` (LSTM).
 * Activations are the overflow-free forms of `wgslMath`; NaN and ±Inf go through as in PyTorch.
 */
export function cellUpdate(kind: CellKind): string {
  const helpers =
    kind === 'relu'
      ? wgslMath('relu_nan', 'tanh_safe', 'sigmoid_safe')
      : wgslMath('tanh_safe', 'sigmoid_safe');
  const act = kind === 'relu' || kind === 'tanh' ? activation(kind, false) : '';
  return `${helpers}
${act}
fn cell_update(gh: vec4<f32>, gx: vec4<f32>, h: f32, c: f32) -> vec2<f32> {
  ${UPDATE[kind]}
}`;
}

/** `vec4<f32>(e(0), e(1), …)` over the G gates of `kind`, zero-padded: gathers per-gate expressions. */
export function gateVec(kind: CellKind, e: (g: number) => string): string {
  const parts = Array.from({ length: 4 }, (_, g) => (g < CELL_GATES[kind] ? e(g) : '0.0'));
  return `vec4<f32>(${parts.join(', ')})`;
}
