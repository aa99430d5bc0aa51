// The recurrence over a packed batch (PyTorch's PackedSequence), `recur`'s packed mode: each step runs
// only the rows its batch size holds, h kept in a state buffer (see `recur`).
import { ACT_RELU, ACT_TANH } from './activation';
import { CELL_GRU, CELL_LSTM, CELL_RNN_RELU, cellRow } from './cell';
import { gemmPacked } from './gemm';
import { rowGemm } from './row';

/** `recur` over a packed batch: step t's rows are those below its batch size, h kept in `state`. */
export function recurPacked(
  mode: i32,
  T: i32,
  N: i32,
  H: i32,
  P: i32,
  gx: usize,
  gxRow: i32,
  out: usize,
  outRow: i32,
  state: usize,
  c: usize,
  whh: usize,
  bhh: usize,
  whr: usize,
  scratch: usize,
  reverse: i32,
  rowsFrom: i32,
  rowsTo: i32,
  steps: usize,
  save: usize,
  saveRow: i32,
): void {
  const G = mode === CELL_LSTM ? 4 : mode === CELL_GRU ? 3 : 1;
  const GH = G * H;
  const hc = scratch + <usize>(N * GH) * 4;
  const act = mode === CELL_RNN_RELU ? ACT_RELU : ACT_TANH;
  const fused = G === 1 && gx === out && gxRow === outRow;
  const first = load<i32>(steps);
  const rowBytes = <usize>P * 4;
  for (let i = 0; i < T; i++) {
    const t = reverse ? T - 1 - i : i;
    const to = min(rowsTo, load<i32>(steps + ((<usize>t) << 3), 4));
    if (to <= rowsFrom) continue;
    const row = load<i32>(steps + ((<usize>t) << 3)) - first;
    const xt = gx + <usize>(row * gxRow) * 4;
    const ot = out + <usize>(row * outRow) * 4;
    const st = save + <usize>(row * saveRow) * 4;
    if (fused && save) {
      for (let n = rowsFrom; n < to; n++) {
        memory.copy(st + <usize>(n * saveRow) * 4, state + <usize>n * rowBytes, rowBytes);
      }
    }
    if (fused) {
      if (N === 1) rowGemm(state, 4, whh, P, H, ot, 1, act, bhh);
      else gemmPacked(N, H, P, state, P, 1, whh, bhh, 1, ot, outRow, act, rowsFrom, to);
    } else {
      if (N === 1) rowGemm(state, 4, whh, P, GH, scratch, 0, 0, bhh);
      else gemmPacked(N, GH, P, state, P, 1, whh, bhh, 0, scratch, GH, 0, rowsFrom, to);
      for (let n = rowsFrom; n < to; n++) {
        const g = scratch + <usize>(n * GH) * 4;
        const x = xt + <usize>(n * gxRow) * 4;
        const h = ot + <usize>(n * outRow) * 4;
        const hcn = whr ? hc + <usize>(n * H) * 4 : 0;
        const sv = save ? st + <usize>(n * saveRow) * 4 : 0;
        cellRow(mode, g, x, c + <usize>(n * H) * 4, h, state + <usize>n * rowBytes, hcn, H, P, act, sv);
      }
      if (whr) {
        if (N === 1) rowGemm(hc, 4, whr, H, P, ot, 0, 0, 0);
        else gemmPacked(N, P, H, hc, H, 1, whr, 0, 0, ot, outRow, 0, rowsFrom, to);
      }
    }
    // the state of the rows this step ran: the next step reads it
    for (let n = rowsFrom; n < to; n++) {
      memory.copy(state + <usize>n * rowBytes, ot + <usize>(n * outRow) * 4, rowBytes);
    }
  }
}
