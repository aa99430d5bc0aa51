import { Generator, uniform } from '@recurrent/tensor';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { STORAGE_USAGE } from '../runtime/buffers.js';
import { testRuntime } from '../testing.js';
import { CELL_GATES, type CellKind } from '../wgsl/cell.js';
import { packedSteps, persistentMaxHidden, persistentPlan, type RecurrenceArgs } from './recurrence.js';
import { recordPersistentRecurrence } from './rnn-persistent.js';
import { recordStepRecurrence } from './rnn-step.js';

const { runtime, reason } = await testRuntime();

/** One layer (layer 1 of 2, to exercise the state offsets) with its data. */
interface Case {
  cell: CellKind;
  T: number;
  N: number;
  H: number;
  /** LSTM's projSize (0: none). */
  proj?: number;
  D?: 1 | 2;
  batchFirst?: boolean;
  /** Packed: each sequence's length, longest first (lengths[0] = T, N = lengths.length). */
  lengths?: number[];
  bias?: boolean;
  withH0?: boolean;
  seed?: number;
  /** Writes NaN/±Inf/huge values into the data before the run. */
  poison?: (data: Data) => void;
}
interface Data {
  gx: Float32Array;
  wHh: Float32Array[];
  bHh: Float32Array[];
  wHr: Float32Array[];
  h0: Float32Array;
  c0: Float32Array;
}
interface Result {
  out: Float32Array;
  hN: Float32Array;
  cN: Float32Array;
}

function sizes(c: Case) {
  const { T, N, H, D = 2 } = c;
  const P = c.proj || H;
  const G = CELL_GATES[c.cell];
  const [strideT, strideN] = c.batchFirst ? [1, T] : [N, 1];
  const batchSizes = c.lengths ? batchSizesOf(c.lengths, T) : null;
  const offsets = [0];
  for (const b of batchSizes ?? []) offsets.push((offsets[offsets.length - 1] as number) + b);
  /** The row of (t, n), or −1 where a packed sequence has no step t. */
  const rowOf = (t: number, n: number): number => {
    if (!batchSizes) return t * strideT + n * strideN;
    return n < (batchSizes[t] as number) ? (offsets[t] as number) + n : -1;
  };
  const rows = batchSizes ? (offsets[T] as number) : T * N;
  return { T, N, H, P, D, G, strideT, strideN, hBase: D * N * P, cBase: D * N * H, batchSizes, rows, rowOf };
}

/** PyTorch's batch sizes of lengths sorted longest first. */
function batchSizesOf(lengths: readonly number[], T: number): Int32Array {
  return Int32Array.from({ length: T }, (_, t) => lengths.filter((l) => l > t).length);
}

function makeData(c: Case): Data {
  const { N, H, P, D, G, rows } = sizes(c);
  const g = new Generator(c.seed ?? 1);
  const rand = (n: number, scale: number) => uniform([n], -scale, scale, { generator: g }).dataSync().slice();
  const per = (n: number, scale: number) => Array.from({ length: D }, () => rand(n, scale));
  const k = 1 / Math.sqrt(H);
  const data = {
    gx: rand(rows * D * G * H, 1.5),
    wHh: per(G * H * P, k),
    bHh: per(G * H, k),
    wHr: per(P * H, k),
    h0: rand(2 * D * N * P, 1),
    c0: rand(2 * D * N * H, 1),
  };
  c.poison?.(data);
  return data;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * The recurrence as plain loops in float64, PyTorch's order of operations. Packed, a sequence without
 * step t keeps its state (its last h and c forward; its h0 and c0 until it starts, reverse).
 */
function reference(c: Case, data: Data): Result {
  const { T, N, H, P, D, G, hBase, cBase, rows, rowOf } = sizes(c);
  const out = new Float32Array(rows * D * P);
  const hN = new Float32Array(D * N * P);
  const cN = new Float32Array(D * N * H);
  for (let d = 0; d < D; d++) {
    const [W, b, R] = [data.wHh[d] as Float32Array, data.bHh[d] as Float32Array, data.wHr[d] as Float32Array];
    const h = Array.from({ length: N }, (_, n) =>
      Array.from({ length: P }, (_, k) => (c.withH0 ? (data.h0[hBase + (d * N + n) * P + k] as number) : 0)),
    );
    const cs = Array.from({ length: N }, (_, n) =>
      Array.from({ length: H }, (_, j) => (c.withH0 ? (data.c0[cBase + (d * N + n) * H + j] as number) : 0)),
    );
    for (let i = 0; i < T; i++) {
      const t = d ? T - 1 - i : i;
      for (let n = 0; n < N; n++) {
        const row = rowOf(t, n);
        if (row < 0) continue;
        const hp = h[n] as number[];
        const raw: number[] = [];
        const next: number[] = [];
        for (let j = 0; j < H; j++) {
          const gh: number[] = [];
          const gx: number[] = [];
          for (let q = 0; q < G; q++) {
            let acc = 0;
            for (let k = 0; k < P; k++) acc += (hp[k] as number) * (W[(q * H + j) * P + k] as number);
            gh.push(acc + (c.bias === false ? 0 : (b[q * H + j] as number)));
            gx.push(data.gx[row * D * G * H + d * G * H + q * H + j] as number);
          }
          const [a0, a1, a2, a3] = gh.map((v, q) => v + (gx[q] as number)) as number[];
          if (c.cell === 'tanh') next.push(Math.tanh(a0 as number));
          else if (c.cell === 'relu') next.push(Number.isNaN(a0) ? Number.NaN : Math.max(a0 as number, 0));
          else if (c.cell === 'gru') {
            const [r, z] = [sigmoid(a0 as number), sigmoid(a1 as number)];
            const nn = Math.tanh((gx[2] as number) + r * (gh[2] as number));
            next.push(((hp[j] as number) - nn) * z + nn);
          } else {
            const cell = cs[n] as number[];
            cell[j] =
              sigmoid(a1 as number) * (cell[j] as number) + sigmoid(a0 as number) * Math.tanh(a2 as number);
            raw.push(sigmoid(a3 as number) * Math.tanh(cell[j] as number));
          }
        }
        if (raw.length) {
          for (let k = 0; k < P; k++) {
            let acc = 0;
            if (c.proj) for (let j = 0; j < H; j++) acc += (raw[j] as number) * (R[k * H + j] as number);
            next.push(c.proj ? acc : (raw[k] as number));
          }
        }
        h[n] = next;
        next.forEach((v, k) => {
          out[row * D * P + d * P + k] = v;
        });
      }
    }
    for (const [n, hn] of h.entries()) hN.set(hn, (d * N + n) * P);
    for (const [n, cn] of cs.entries()) cN.set(cn, (d * N + n) * H);
  }
  return { out, hN, cN };
}

describe.skipIf(!runtime)(
  `recurrence kernels against plain loops${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    const gpu = runtime as NonNullable<typeof runtime>;
    afterAll(() => gpu.dispose());

    const upload = (data: Float32Array): GPUBuffer => {
      const b = gpu.acquire(Math.max(4, data.byteLength), STORAGE_USAGE);
      gpu.write(b, data);
      return b;
    };

    async function run(kind: 'persistent' | 'step', c: Case, data: Data): Promise<Result> {
      const s = sizes(c);
      const { T, N, H, P, D, hBase, cBase, rows } = s;
      const held: GPUBuffer[] = [];
      const up = (x: Float32Array) => {
        const b = upload(x);
        held.push(b);
        return b;
      };
      const lstm = c.cell === 'lstm';
      const [out, hN, cN] = [rows * D * P, 2 * D * N * P, 2 * D * N * H].map((n) => up(new Float32Array(n)));
      const rec = gpu.recorder();
      const args: RecurrenceArgs = {
        ...{ cell: c.cell, T, N, H, P, strideT: s.strideT, strideN: s.strideN, hBase, cBase },
        wHh: data.wHh.map(up),
        bHh: c.bias === false ? null : data.bHh.map(up),
        wHr: c.proj ? data.wHr.map(up) : null,
        gx: up(data.gx),
        h0: c.withH0 ? up(data.h0) : null,
        c0: c.withH0 && lstm ? up(data.c0) : null,
        ...{ out: out as GPUBuffer, hN: hN as GPUBuffer, cN: lstm ? (cN as GPUBuffer) : null },
        packed: s.batchSizes ? packedSteps(rec, s.batchSizes) : null,
      };
      (kind === 'persistent' ? recordPersistentRecurrence : recordStepRecurrence)(rec, args);
      rec.submit();
      const result = {
        out: await gpu.read(out as GPUBuffer, rows * D * P),
        hN: (await gpu.read(hN as GPUBuffer, 2 * D * N * P)).slice(hBase),
        cN: (await gpu.read(cN as GPUBuffer, 2 * D * N * H)).slice(cBase),
      };
      for (const b of held) gpu.release(b);
      return result;
    }

    function expectClose(got: Float32Array, want: Float32Array, what: string): void {
      expect(got.length, what).toBe(want.length);
      want.forEach((w, i) => {
        const g = got[i] as number;
        if (Number.isNaN(w) || !Number.isFinite(w)) expect(g, `${what}[${i}]`).toBe(w);
        else
          expect(Math.abs(g - w), `${what}[${i}] = ${g}, want ${w}`).toBeLessThanOrEqual(
            2e-5 + 2e-5 * Math.abs(w),
          );
      });
    }

    async function check(kind: 'persistent' | 'step', c: Case): Promise<void> {
      const data = makeData(c);
      const want = reference(c, data);
      const got = await run(kind, c, data);
      const what = `${kind} ${JSON.stringify({ ...c, poison: c.poison ? 'yes' : undefined })}`;
      expectClose(got.out, want.out, `${what} out`);
      expectClose(got.hN, want.hN, `${what} hN`);
      if (c.cell === 'lstm') expectClose(got.cN, want.cN, `${what} cN`);
    }

    const cells: Case[] = [
      { cell: 'tanh', T: 6, N: 3, H: 9 },
      { cell: 'relu', T: 6, N: 3, H: 9 },
      { cell: 'lstm', T: 6, N: 3, H: 9 },
      { cell: 'lstm', T: 6, N: 3, H: 9, proj: 4 },
      { cell: 'gru', T: 6, N: 3, H: 9 },
    ];
    const variants: Partial<Case>[] = [
      { withH0: true },
      { N: 1, D: 1, bias: false },
      { N: 13, H: 37, batchFirst: true, withH0: true }, // several workgroups of rows; tile edges
      { N: 21, T: 3, H: 17, withH0: true }, // N > 16 rows of the skinny step tile
      { N: 70, T: 2, H: 11, withH0: true }, // N > 64 rows of the wide step tile
      { N: 2, T: 4, H: 70, batchFirst: true }, // H > 64 units of the skinny step tile
    ];

    for (const kind of ['persistent', 'step'] as const) {
      it.each(cells.map((c) => [c.proj ? 'lstm (projection)' : c.cell, c] as const))(
        `${kind}: %s equals the loops (odd sizes, N = 1, batch-first, no bias, h0/c0)`,
        async (_, base) => {
          for (const v of variants) {
            const c = { ...base, ...v, seed: v.N ?? 5 };
            if (c.proj && c.proj >= c.H) c.proj = c.H - 1;
            if (kind === 'persistent' && !persistentPlan(c.cell, c.H, c.proj || c.H, gpu.limits)) continue;
            await check(kind, c);
          }
        },
      );
    }

    it('equals the loops on random configurations (both kernels, every cell)', async () => {
      const arb = fc.record({
        cell: fc.constantFrom<CellKind>('tanh', 'relu', 'lstm', 'gru'),
        T: fc.integer({ min: 1, max: 7 }),
        N: fc.integer({ min: 1, max: 20 }),
        H: fc.integer({ min: 1, max: 40 }),
        proj: fc.integer({ min: 0, max: 10 }),
        D: fc.constantFrom<1 | 2>(1, 2),
        batchFirst: fc.boolean(),
        bias: fc.boolean(),
        withH0: fc.boolean(),
        seed: fc.integer({ min: 0, max: 1000 }),
        step: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ step, ...c }) => {
          const proj = c.cell === 'lstm' && c.proj < c.H ? c.proj : 0;
          const kind = step || !persistentPlan(c.cell, c.H, proj || c.H, gpu.limits) ? 'step' : 'persistent';
          await check(kind, { ...c, proj });
        }),
        { numRuns: 40 },
      );
    });

    it('persistent: carries h and c across dispatches (T = 1,100 > 1,024 steps per dispatch)', async () => {
      for (const cell of ['tanh', 'lstm', 'gru'] as const) {
        await check('persistent', { cell, T: 1100, N: 2, H: 5, withH0: true, batchFirst: cell === 'gru' });
      }
      await check('persistent', { cell: 'lstm', T: 1030, N: 1, H: 6, proj: 3, D: 1, withH0: true });
    });

    it('persistent: LSTM projection with W_hr read from storage when it does not fit beside W_hh', async () => {
      const [H, proj] = [60, 30];
      const plan = persistentPlan('lstm', H, proj, gpu.limits);
      if (gpu.limits.maxComputeWorkgroupStorageSize === 32768) expect(plan?.hrShared).toBe(false);
      if (plan) await check('persistent', { cell: 'lstm', T: 4, N: 5, H, proj, withH0: true });
      await check('step', { cell: 'lstm', T: 4, N: 5, H, proj, withH0: true });
    });

    it('lets NaN and ±Inf through the activations as PyTorch does, and computes W_hh·0 without h0', async () => {
      const poison = (data: Data) => {
        data.gx.set([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e30, -1e30, 3e38], 0);
        data.gx.set([Number.POSITIVE_INFINITY, -1e30], 40);
        (data.wHh[1] as Float32Array)[3] = Number.NaN; // reverse direction: NaN everywhere from its first step
      };
      for (const kind of ['persistent', 'step'] as const) {
        for (const base of cells) await check(kind, { ...base, poison, N: 2, T: 4 });
      }
    });

    const packedVariants: Partial<Case>[] = [
      { T: 5, N: 4, lengths: [5, 3, 3, 1], withH0: true },
      { T: 4, N: 1, lengths: [4], D: 1, bias: false },
      { T: 3, N: 3, lengths: [3, 3, 3], batchFirst: true }, // all equal: as rectangular
      { T: 3, N: 13, lengths: [3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1], withH0: true }, // skinny tile edge
      { T: 2, N: 40, H: 11, lengths: [...Array(25).fill(2), ...Array(15).fill(1)], withH0: true }, // wide tile; 2 workgroups
    ];

    for (const kind of ['persistent', 'step'] as const) {
      it.each(cells.map((c) => [c.proj ? 'lstm (projection)' : c.cell, c] as const))(
        `${kind}: %s on packed batches equals the loops (the batch shrinks; reverse starts at each end from h0)`,
        async (_, base) => {
          for (const v of packedVariants) {
            const c = { ...base, ...v, seed: (v.N ?? 0) + 7 };
            if (c.proj && c.proj >= c.H) c.proj = c.H - 1;
            if (kind === 'persistent' && !persistentPlan(c.cell, c.H, c.proj || c.H, gpu.limits)) continue;
            await check(kind, c);
          }
        },
      );
    }

    it('equals the loops on random packed batches (both kernels, every cell)', async () => {
      const arb = fc.record({
        cell: fc.constantFrom<CellKind>('tanh', 'relu', 'lstm', 'gru'),
        lengths: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 18 }),
        H: fc.integer({ min: 1, max: 33 }),
        proj: fc.integer({ min: 0, max: 8 }),
        D: fc.constantFrom<1 | 2>(1, 2),
        bias: fc.boolean(),
        withH0: fc.boolean(),
        seed: fc.integer({ min: 0, max: 1000 }),
        step: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ step, lengths, ...c }) => {
          const proj = c.cell === 'lstm' && c.proj < c.H ? c.proj : 0;
          const sorted = [...lengths].sort((a, b) => b - a);
          const shape = { T: sorted[0] as number, N: sorted.length, lengths: sorted };
          const kind = step || !persistentPlan(c.cell, c.H, proj || c.H, gpu.limits) ? 'step' : 'persistent';
          await check(kind, { ...c, ...shape, proj });
        }),
        { numRuns: 24 },
      );
    });

    it('persistent, packed: a sequence joining in a later dispatch starts from its h0 (T = 1,100)', async () => {
      const lengths = [1100, 1030, 5];
      for (const cell of ['lstm', 'gru'] as const) {
        await check('persistent', { cell, T: 1100, N: 3, H: 5, lengths, withH0: true });
      }
    });

    it('reports the persistent limits per cell', () => {
      const at = (bytes: number) => ({ maxComputeWorkgroupStorageSize: bytes }) as GPUSupportedLimits;
      const max = (bytes: number) =>
        (['tanh', 'gru', 'lstm'] as const).map((c) => persistentMaxHidden(c, at(bytes)));
      expect(max(16384)).toEqual([63, 36, 31]);
      expect(max(32768)).toEqual([89, 51, 45]);
    });
  },
);
