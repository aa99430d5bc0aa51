import { Generator, uniform } from '@recurrent/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { STORAGE_USAGE } from '../runtime/buffers.js';
import { testRuntime } from '../testing.js';
import { CELL_GATES } from '../wgsl/cell.js';
import type { StepRows } from '../wgsl/step-rows.js';
import { recordGradProj } from './rnn-grad-proj.js';
import { recordGradStep } from './rnn-grad-step.js';
import { recordTrainStep } from './rnn-train-step.js';

const { runtime, reason } = await testRuntime();

// One step of the training kernels against the same formulas in TypeScript (float64, so the GEMM's order
// does not matter within the tolerance): direction 1 holds fewer
// sequences (a packed step), so rows it must not touch keep their sentinel.
const [D, N, H, rowsTotal] = [2, 3, 5, 8];
const rows: StepRows = { row0: 0, row1: 4, active0: 3, active1: 2, rs: 1 };
const SENTINEL = 7;
const sig = (x: number) => 1 / (1 + Math.exp(-x));

describe.skipIf(!runtime)(`rnn training step kernels${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const gpu = runtime as NonNullable<typeof runtime>;
  afterAll(() => gpu.dispose());
  const g = new Generator(5);
  const rand = (n: number, lo = -1, hi = 1) => uniform([n], lo, hi, { generator: g }).dataSync();
  const upload = (data: Float32Array): GPUBuffer => {
    const b = gpu.acquire(Math.max(4, data.byteLength), STORAGE_USAGE);
    gpu.write(b, data);
    return b;
  };
  const close = (got: Float32Array, want: Float32Array, what: string) => {
    for (let i = 0; i < want.length; i++) {
      const tol = 1e-6 + 1e-5 * Math.abs(want[i] as number);
      if (!(Math.abs((got[i] as number) - (want[i] as number)) <= tol))
        expect.fail(`${what}[${i}]: got ${got[i]}, want ${want[i]}`);
    }
  };
  /** Writes `values` at `at`, `at + H`, … (one per gate). */
  const put = (a: Float32Array, at: number, values: number[]) => {
    for (const [k, v] of values.entries()) a[at + k * H] = v;
  };
  /** Calls `f(d, n, j, row, s)` for every thread that computes. */
  const each = (width: number, f: (d: number, n: number, j: number, row: number, s: number) => void) => {
    for (let d = 0; d < D; d++)
      for (let n = 0; n < (d ? rows.active1 : rows.active0); n++)
        for (let j = 0; j < width; j++) f(d, n, j, (d ? rows.row1 : rows.row0) + n * rows.rs, d * N + n);
  };

  it.each(['tanh', 'relu', 'lstm', 'gru'] as const)(
    '%s forward step: gates, states and saved values',
    async (cell) => {
      const P = cell === 'lstm' ? 3 : H; // LSTM with a projection: h goes to raw, not out
      const GH = CELL_GATES[cell] * H;
      // W_hh then b_hh per direction, as packWeights lays them out
      const [stride, bOff] = [GH * P + GH, GH * P];
      const [w, gx, hs, cs] = [
        rand(D * stride),
        rand(rowsTotal * D * GH, -3, 3),
        rand(D * N * P),
        rand(D * N * H),
      ];
      const gh = new Float32Array(D * N * GH);
      for (let d = 0; d < D; d++)
        for (let n = 0; n < N; n++)
          for (let k = 0; k < GH; k++) {
            let acc = w[d * stride + bOff + k] as number;
            for (let q = 0; q < P; q++)
              acc += (hs[(d * N + n) * P + q] as number) * (w[d * stride + k * P + q] as number);
            gh[(d * N + n) * GH + k] = acc;
          }
      const [offC0, offC1, offRaw] = [
        rowsTotal * D * P,
        rowsTotal * D * (P + H),
        rowsTotal * D * (P + 2 * H),
      ];
      const sv = new Float32Array(offRaw + rowsTotal * D * H).fill(SENTINEL);
      const out = new Float32Array(rowsTotal * D * P).fill(SENTINEL);
      // sequences the step does not hold carry their state into hsOut
      const want = { gx: gx.slice(), hsOut: hs.slice(), cs: cs.slice(), sv: sv.slice(), out: out.slice() };
      each(H, (d, _n, j, row, s) => {
        const at = row * D * GH + d * GH + j;
        const pre = (k: number) => (gh[s * GH + k * H + j] as number) + (gx[at + k * H] as number);
        const cAt = row * D * H + d * H + j;
        const h = j < P ? (hs[s * P + j] as number) : 0;
        if (j < P) want.sv[row * D * P + d * P + j] = h;
        let y: number;
        if (cell === 'lstm') {
          const [i, f, c, o] = [sig(pre(0)), sig(pre(1)), Math.tanh(pre(2)), sig(pre(3))];
          put(want.gx, at, [i, f, c, o]);
          const c1 = f * (cs[s * H + j] as number) + i * c;
          [want.sv[offC0 + cAt], want.sv[offC1 + cAt], want.cs[s * H + j]] = [
            cs[s * H + j] as number,
            c1,
            c1,
          ];
          want.sv[offRaw + cAt] = o * Math.tanh(c1);
          return; // the projection GEMMs write h
        }
        if (cell === 'gru') {
          const [r, z] = [sig(pre(0)), sig(pre(1))];
          const hn = gh[s * GH + 2 * H + j] as number;
          const nn = Math.tanh((gx[at + 2 * H] as number) + r * hn);
          put(want.gx, at, [r, z, nn]);
          want.sv[offC1 + cAt] = hn;
          y = (h - nn) * z + nn;
        } else {
          y = cell === 'tanh' ? Math.tanh(pre(0)) : Math.max(0, pre(0));
          want.gx[at] = y;
        }
        want.out[row * D * P + d * P + j] = y;
        want.hsOut[s * P + j] = y;
      });
      const hsOut = new Float32Array(D * N * P).fill(SENTINEL);
      if (cell === 'lstm') each(P, (_d, _n, j, _row, s) => (want.hsOut[s * P + j] = SENTINEL));
      const b = { gx: upload(gx), hsOut: upload(hsOut), cs: upload(cs), sv: upload(sv), out: upload(out) };
      const rec = gpu.recorder();
      const lstm = cell === 'lstm';
      const packed = { buffer: upload(w), stride, bOff };
      const step = { cell, D, N, H, P, rows, w: packed, hasBias: true, hsIn: upload(hs), ...b };
      recordTrainStep(rec, { ...step, cs: lstm ? b.cs : null, offC0, offC1, offRaw, proj: lstm });
      rec.submit();
      for (const k of ['gx', 'hsOut', 'cs', 'sv', 'out'] as const)
        close(await gpu.read(b[k], want[k].length), want[k], `${cell} ${k}`);
    },
  );

  it.each(['tanh', 'relu', 'lstm', 'gru'] as const)(
    '%s backward step: gate derivatives, dh, dc',
    async (cell) => {
      const proj = cell === 'lstm';
      const P = proj ? 3 : H;
      const GH = CELL_GATES[cell] * H;
      const ghOff = cell === 'gru' ? rowsTotal * D * GH : 0;
      const [offC0, offC1] = [rowsTotal * D * P, rowsTotal * D * (P + H)];
      const gates = rand(rowsTotal * D * GH, cell === 'relu' ? -1 : 0.05, 0.95);
      const [sv, dOut, dh, dc, dhc] = [
        rand(offC1 + rowsTotal * D * H),
        rand(rowsTotal * D * P),
        rand(D * N * P),
        rand(D * N * H),
        rand(D * N * H),
      ];
      const dg = new Float32Array(ghOff + rowsTotal * D * GH).fill(SENTINEL);
      const want = { dg: dg.slice(), dh: dh.slice(), dc: dc.slice() };
      each(H, (d, _n, j, row, s) => {
        const at = row * D * GH + d * GH + j;
        const gt = (k: number) => gates[at + k * H] as number;
        const cAt = row * D * H + d * H + j;
        const dhv = proj
          ? (dhc[s * H + j] as number)
          : (dh[s * P + j] as number) + (dOut[row * D * P + d * P + j] as number);
        if (cell === 'lstm') {
          const [ig, fg, cg, og] = [gt(0), gt(1), gt(2), gt(3)];
          const tc = Math.tanh(sv[offC1 + cAt] as number);
          const dcv = (dc[s * H + j] as number) + dhv * og * (1 - tc * tc);
          want.dc[s * H + j] = dcv * fg;
          const v = [
            dcv * cg * ig * (1 - ig),
            dcv * (sv[offC0 + cAt] as number) * fg * (1 - fg),
            dcv * ig * (1 - cg * cg),
            dhv * tc * og * (1 - og),
          ];
          put(want.dg, at, v);
        } else if (cell === 'gru') {
          const [r, z, nn] = [gt(0), gt(1), gt(2)];
          const dn = dhv * (1 - z) * (1 - nn * nn);
          const dz = dhv * ((sv[row * D * P + d * P + j] as number) - nn) * z * (1 - z);
          const dr = dn * (sv[offC1 + cAt] as number) * r * (1 - r);
          put(want.dg, at, [dr, dz, dn]);
          put(want.dg, ghOff + at, [dr, dz, dn * r]);
          want.dh[s * P + j] = dhv * z;
        } else want.dg[at] = cell === 'tanh' ? dhv * (1 - gt(0) ** 2) : gt(0) > 0 ? dhv : 0;
      });
      const b = {
        gates: upload(gates),
        sv: upload(sv),
        dOut: upload(dOut),
        dh: upload(dh),
        dc: upload(dc),
        dg: upload(dg),
      };
      const rec = gpu.recorder();
      const extra = { dc: proj ? b.dc : null, dhc: proj ? upload(dhc) : null, offC0, offC1, ghOff };
      recordGradStep(rec, { cell, D, N, H, P, rows, ...b, ...extra });
      rec.submit();
      for (const k of ['dg', 'dh', 'dc'] as const)
        close(await gpu.read(b[k], want[k].length), want[k], `${cell} ${k}`);
    },
  );

  it('projection step: dhAll = dh + dOut on the step’s rows only', async () => {
    const P = 3;
    const [dh, dOut] = [rand(D * N * P), rand(rowsTotal * D * P)];
    const dhAll = new Float32Array(rowsTotal * D * P).fill(SENTINEL);
    const want = dhAll.slice();
    each(P, (d, _n, j, row, s) => {
      const at = row * D * P + d * P + j;
      want[at] = (dh[s * P + j] as number) + (dOut[at] as number);
    });
    const out = upload(dhAll);
    const rec = gpu.recorder();
    recordGradProj(rec, { D, N, P, rows, dh: upload(dh), dOut: upload(dOut), dhAll: out });
    rec.submit();
    close(await gpu.read(out, want.length), want, 'dhAll');
  });
});
