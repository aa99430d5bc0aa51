import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TRAIN_LR } from '../configs.js';
import type { Problem } from '../problem.js';
import type { Runner, RunnerFactory } from '../runner.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../python/torch_bench.py', import.meta.url));

/** Why PyTorch cannot run here, or null when `import torch` works. */
export function torchMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not found`;
  return r.status === 0 ? null : `${PYTHON} -c 'import torch' failed`;
}

/** A long-lived Python process: one JSON request line in, one JSON reply line out. */
class TorchServer {
  readonly #proc: ChildProcessWithoutNullStreams;
  readonly #replies: ((line: string) => void)[] = [];

  constructor(env: NodeJS.ProcessEnv) {
    this.#proc = spawn(PYTHON, [SCRIPT], { env, stdio: 'pipe' });
    this.#proc.stderr.on('data', (d) => process.stderr.write(d));
    createInterface({ input: this.#proc.stdout }).on('line', (line) => this.#replies.shift()?.(line));
  }

  request<T>(msg: object): Promise<T> {
    return new Promise((resolve, reject) => {
      this.#replies.push((line) => {
        const reply = JSON.parse(line) as T | { error: string };
        if (reply && typeof reply === 'object' && 'error' in reply)
          reject(new Error(`PyTorch: ${reply.error}`));
        else resolve(reply as T);
      });
      this.#proc.stdin.write(`${JSON.stringify(msg)}\n`);
    });
  }

  close(): void {
    this.#proc.stdin.end();
  }
}

/** Debian's OpenBLAS build of the reference BLAS interface (`apt-get install -y libopenblas0-pthread`). */
const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3';

/**
 * A directory holding `libblas.so.3 → OpenBLAS`, for LD_LIBRARY_PATH: Debian's torch is linked to the reference
 * BLAS (5–10× slower), and this swaps in OpenBLAS without touching the system.
 */
function openblasDir(): string | null {
  if (!existsSync(OPENBLAS)) return null;
  const dir = join(tmpdir(), 'recurrent-bench-openblas');
  mkdirSync(dir, { recursive: true });
  const link = join(dir, 'libblas.so.3');
  if (!existsSync(link)) symlinkSync(OPENBLAS, link);
  return dir;
}

/**
 * PyTorch 1.13 on the CPU through a Python subprocess. `default`: PyTorch's defaults (Debian's torch is linked to
 * the reference BLAS); `tuned`: one OpenMP thread and two BLAS threads (PyTorch's default OpenMP threads
 * oversubscribe a two-core machine); `openblas`: tuned and linked to OpenBLAS, the fair peer to quote.
 */
export function torch(mode: 'default' | 'tuned' | 'openblas'): RunnerFactory {
  return async () => {
    const missing = torchMissing();
    if (missing) return { skipped: missing };
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS']) delete env[k];
    // No MKL here (MKL_NUM_THREADS would also set PyTorch's own thread count to 2).
    const tuned = mode !== 'default';
    if (tuned) Object.assign(env, { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '2' });
    if (mode === 'openblas') {
      const dir = openblasDir();
      if (!dir)
        return {
          skipped: `PyTorch + OpenBLAS: ${OPENBLAS} is missing (apt-get install -y libopenblas0-pthread)`,
        };
      env.LD_LIBRARY_PATH = [dir, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
    }
    const threads = spawnSync(PYTHON, ['-c', 'import torch; print(torch.get_num_threads())'], {
      env,
      encoding: 'utf8',
    }).stdout.trim();
    const server = new TorchServer(env);
    const file = join(tmpdir(), `recurrent-bench-${process.pid}-${mode}.f32`);
    const names = {
      default: `PyTorch (default: ${threads} thr)`,
      tuned: 'PyTorch (1 OMP + 2 BLAS thr)',
      openblas: 'PyTorch + OpenBLAS (1 OMP + 2 BLAS thr)',
    };
    const runner: Runner = {
      name: names[mode],
      ours: false,
      async setup(problem: Problem) {
        const parts = [problem.input.dataSync()];
        for (const dirs of problem.layers) for (const w of dirs) parts.push(w.wIh, w.wHh, w.bIh, w.bHh);
        if (problem.target) parts.push(problem.target.dataSync());
        writeFileSync(
          file,
          Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))),
        );
        try {
          await server.request({ cmd: 'setup', file, config: problem.config, lr: TRAIN_LR });
          const out = readFileSync(`${file}.out`);
          return new Float32Array(out.buffer, out.byteOffset, out.byteLength / 4).slice();
        } finally {
          rmSync(file, { force: true });
          rmSync(`${file}.out`, { force: true });
        }
      },
      async time(n, batch) {
        return (await server.request<{ times: number[] }>({ cmd: 'time', n, batch })).times;
      },
      async teardown() {},
      close: () => server.close(),
    };
    return runner;
  };
}
