import asc from 'assemblyscript/asc';

/**
 * The one-thread compute ceiling of 128-bit WebAssembly SIMD on this machine: twelve independent chains of
 * f32x4 multiply-adds (relaxed_madd where the engine has it, else a multiply and an add, as the kernels
 * do) with no memory traffic at all. No kernel on one thread can run faster, so a target that needs more
 * GFLOP/s than this is out of reach of the one-thread WASM backend, however its loops are tiled.
 */
/** The chains, with `MADD(a, m, c)` spelled per instruction set. */
const SOURCE = `
export function run(iters: i32): f32 {
  let a0 = f32x4.splat(1), a1 = f32x4.splat(1), a2 = f32x4.splat(1), a3 = f32x4.splat(1);
  let a4 = f32x4.splat(1), a5 = f32x4.splat(1), a6 = f32x4.splat(1), a7 = f32x4.splat(1);
  let a8 = f32x4.splat(1), a9 = f32x4.splat(1), a10 = f32x4.splat(1), a11 = f32x4.splat(1);
  const m = f32x4.splat(0.9999999);
  const c = f32x4.splat(1e-7);
  for (let i = 0; i < iters; i++) {
    a0 = MADD(a0, m, c); a1 = MADD(a1, m, c);
    a2 = MADD(a2, m, c); a3 = MADD(a3, m, c);
    a4 = MADD(a4, m, c); a5 = MADD(a5, m, c);
    a6 = MADD(a6, m, c); a7 = MADD(a7, m, c);
    a8 = MADD(a8, m, c); a9 = MADD(a9, m, c);
    a10 = MADD(a10, m, c); a11 = MADD(a11, m, c);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  const u = f32x4.add(s, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)));
  return f32x4.extract_lane(u, 0) + f32x4.extract_lane(u, 3);
}`;

/** The engine's WebAssembly API (the bench compiles without the DOM lib that declares it). */
const wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => object;
      Instance: new (m: object) => { exports: unknown };
    };
  }
).WebAssembly;

/** The name of the GEMM table's ceiling row (not a "(1 thread)" row, so it is never taken for the GEMM peak). */
export const FMA_CEILING_ROW = 'SIMD ceiling: f32x4 multiply-adds alone, no memory traffic, one thread';

async function compile(relaxed: boolean): Promise<Uint8Array> {
  const madd = relaxed ? 'f32x4.relaxed_madd($1, $2, $3)' : 'f32x4.add(f32x4.mul($1, $2), $3)';
  const source = SOURCE.replace(/MADD\(([^,]+), ([^,]+), ([^)]+)\)/g, madd);
  let binary: Uint8Array | undefined;
  const flags = [
    '--runtime',
    'stub',
    '-O3',
    '--enable',
    'simd',
    ...(relaxed ? ['--enable', 'relaxed-simd'] : []),
  ];
  const { error } = await asc.main(['ceiling.ts', ...flags, '--outFile', 'c.wasm'], {
    readFile: (name) => (name === 'ceiling.ts' ? source : null),
    writeFile: (name, contents) => {
      if (name.endsWith('.wasm')) binary = contents as Uint8Array;
    },
    listFiles: () => [],
  });
  if (error || !binary) throw new Error(`FMA ceiling: asc failed: ${error?.message ?? 'no binary'}`);
  return binary;
}

/**
 * Times the chains with the instructions the kernels use here: relaxed_madd where the engine has relaxed
 * SIMD (the kernels' FMA build), a multiply and an add otherwise (their plain build; Node 20 without flags).
 * `{ ms, flops, fma }` of the median run.
 */
export async function fmaCeiling(
  reps: number,
  iters: number,
): Promise<{ ms: number; flops: number; fma: boolean }> {
  let module: object;
  let fma = true;
  try {
    module = new wasm.Module(await compile(true));
  } catch {
    fma = false;
    module = new wasm.Module(await compile(false));
  }
  const run = (new wasm.Instance(module).exports as { run(iters: number): number }).run;
  run(1000);
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    run(iters);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { ms: times[times.length >> 1] as number, flops: iters * 12 * 4 * 2, fma };
}
