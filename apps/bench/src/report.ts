import { type BenchConfig, describeConfig, flopsOf, tokensOf } from './configs.js';
import { FMA_CEILING_ROW } from './fma-ceiling.js';
import { paddedName } from './runner.js';
import type { Measurement } from './schedule.js';

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));
const ratio = (v: number): string => `${v < 10 ? v.toFixed(2) : v.toFixed(0)}×`;

/** One config's results as markdown: a row per implementation, then ours ÷ each peer. */
export function configSection(config: BenchConfig, results: readonly Measurement[]): string {
  const flops = flopsOf(config);
  // a streamed config's sample is T forwards: also the median per step
  const perStep = config.stream ? ' µs per step |' : '';
  const none = config.stream ? ' — |' : '';
  const lines = [
    `### ${config.id}: ${describeConfig(config)} (${(flops / 1e6).toPrecision(3)} MFLOP per forward)`,
    '',
    `| implementation | median ms |${perStep} min ms | max ms | samples | GFLOP/s | max abs Δ vs ours |`,
    `|---|---:|${config.stream ? '---:|' : ''}---:|---:|---:|---:|---:|`,
  ];
  for (const m of results) {
    if ('failed' in m)
      lines.push(`| ${m.runner.name} | — |${none} — | — | — | — | **FAILED**, not timed: ${m.failed} |`);
    else if ('unsupported' in m)
      lines.push(`| ${m.runner.name} | — |${none} — | — | — | — | not run: ${m.unsupported} |`);
    else {
      const { median, min, max, n } = m.summary;
      const gflops = flops / (median * 1e6);
      const step = config.stream ? ` ${((median * 1000) / config.steps).toFixed(2)} |` : '';
      lines.push(
        `| ${m.runner.name} | ${ms(median)} |${step} ${ms(min)} | ${ms(max)} | ${n} | ${gflops.toFixed(2)} | ${m.maxAbs.toExponential(1)} |`,
      );
    }
  }
  const timed = results.filter((m) => 'summary' in m);
  const ours = timed.filter((m) => m.runner.ours);
  const peers = timed.filter((m) => !m.runner.ours);
  if (ours.length > 0 && peers.length > 0) {
    lines.push('', `| ours ÷ peer (median) | ${peers.map((p) => p.runner.name).join(' | ')} |`);
    lines.push(`|---|${peers.map(() => '---:').join('|')}|`);
    for (const o of ours) {
      const cells = peers.map((p) => ratio(o.summary.median / p.summary.median));
      lines.push(`| ${o.runner.name} | ${cells.join(' | ')} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Every config × peer for one of our implementations: the ratio of medians (below 1: we are faster). */
export function ratioSummary(
  all: readonly { config: BenchConfig; results: readonly Measurement[] }[],
): string {
  const timedOf = (results: readonly Measurement[]) => results.filter((m) => 'summary' in m);
  const names = (ours: boolean) => [
    ...new Set(
      all.flatMap(({ results }) =>
        timedOf(results)
          .filter((m) => m.runner.ours === ours)
          .map((m) => m.runner.name),
      ),
    ),
  ];
  const peers = names(false);
  const lines: string[] = [];
  for (const name of names(true)) {
    lines.push(`**${name}** ÷ peer (median ms ratio; below 1 means ours is faster)`, '');
    lines.push(`| config | ${peers.join(' | ')} |`, `|---|${peers.map(() => '---:').join('|')}|`);
    for (const { config, results } of all) {
      const timed = timedOf(results);
      const o = timed.find((m) => m.runner.name === name);
      const cells = peers.map((p) => {
        const m = timed.find((r) => r.runner.name === p);
        return o && m ? ratio(o.summary.median / m.summary.median) : '—';
      });
      lines.push(`| ${config.id} | ${cells.join(' | ')} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** The fastest one-thread WASM row of the GEMM section (its markdown table): the peak a kernel can reach. */
export function gemmPeak(gemmMarkdown: string): { name: string; gflops: number } | undefined {
  let peak: { name: string; gflops: number } | undefined;
  for (const line of gemmMarkdown.split('\n')) {
    const [, name, , gflops] = line.split('|').map((cell) => cell.trim());
    if (!name || !/wasm/i.test(name) || !/\(1 thread\)/.test(name)) continue;
    const value = Number(gflops);
    if (Number.isFinite(value) && value > (peak?.gflops ?? 0)) peak = { name, gflops: value };
  }
  return peak;
}

/** The FMA ceiling's GFLOP/s from the GEMM section's markdown, if it was measured. */
export function fmaCeilingOf(gemmMarkdown: string): number | undefined {
  for (const line of gemmMarkdown.split('\n')) {
    const [, name, , gflops] = line.split('|').map((cell) => cell.trim());
    if (name === FMA_CEILING_ROW && Number.isFinite(Number(gflops))) return Number(gflops);
  }
  return undefined;
}

const OURS_WASM = 'recurrent cpu (wasm, 1 thr)';
/** The LSTM/GRU targets: our WASM backend on one thread ≤ 0.6× ORT Web (2 thr); ≤ 1.0× ORT Node on these. */
const WEB_TARGET = 0.6;
const NODE_TARGET = 1.0;
const NODE_TARGET_SHAPES = ['C1', 'C5'];
/** The shapes the LSTM/GRU targets are set on (C6, a stacked batch of one, is ours, not the issue's). */
const TARGET_SHAPES = ['C1', 'C2', 'C3', 'C5'];

/**
 * One row per LSTM/GRU config: our WASM backend on one thread, its ratios to ONNX Runtime Web and Node, its
 * GFLOP/s and the GFLOP/s the targets ask for (each with its share of the GEMM peak), and whether it meets
 * them. Empty when no LSTM/GRU config ran.
 */
export function cellTargets(
  all: readonly { config: BenchConfig; results: readonly Measurement[] }[],
  peak: { name: string; gflops: number } | undefined,
  ceiling?: number,
): string {
  const rows = all.filter(
    ({ config }) =>
      config.cell !== 'RNN' &&
      !config.lengths &&
      !config.train &&
      !config.stream &&
      TARGET_SHAPES.includes(config.id.split('-')[0] as string),
  );
  if (rows.length === 0) return '';
  const medianOf = (
    results: readonly Measurement[],
    match: (name: string) => boolean,
  ): number | undefined => {
    const m = results.find((r) => match(r.runner.name));
    return m && 'summary' in m ? m.summary.median : undefined;
  };
  const lines = [
    `### LSTM/GRU: ${OURS_WASM} against the targets and the GEMM peak`,
    '',
    `Targets: ≤ ${WEB_TARGET}× ONNX Runtime Web (wasm, 2 thr) on every row; ≤ ${NODE_TARGET}× ONNX Runtime Node ` +
      `on ${NODE_TARGET_SHAPES.join(' and ')}. GEMM peak: ${
        peak ? `${peak.gflops.toFixed(1)} GFLOP/s (${peak.name})` : 'not measured (add gemm to --only)'
      }.${
        ceiling
          ? ` One-thread FMA ceiling: ${ceiling.toFixed(1)} GFLOP/s — a row that needs more than that cannot ` +
            'meet its target with one thread of 128-bit WebAssembly SIMD ("beyond the ceiling").'
          : ''
      }`,
    '',
    '| config | median ms | ÷ ORT Web | ÷ ORT Node | GFLOP/s (of GEMM peak) | needed for the targets | met |',
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  const withPeak = (gflops: number): string =>
    `${gflops.toFixed(1)}${peak ? ` (${((100 * gflops) / peak.gflops).toFixed(0)}%)` : ''}`;
  for (const { config, results } of rows) {
    const ours = medianOf(results, (n) => n === OURS_WASM);
    const web = medianOf(results, (n) => n.startsWith('ONNX Runtime Web'));
    const node = medianOf(results, (n) => n.startsWith('ONNX Runtime Node'));
    const nodeCounts = NODE_TARGET_SHAPES.includes(config.id.split('-')[0] ?? '');
    if (ours === undefined || web === undefined || (nodeCounts && node === undefined)) {
      lines.push(`| ${config.id} | — | — | — | — | — | not timed (ours or a peer) |`);
      continue;
    }
    // the slowest time that meets every target of this row, and the GFLOP/s it takes
    const limitMs = Math.min(
      WEB_TARGET * web,
      nodeCounts && node ? NODE_TARGET * node : Number.POSITIVE_INFINITY,
    );
    const gflopsAt = (msPerForward: number): number => flopsOf(config) / (msPerForward * 1e6);
    const nodeRatio = node ? `${ratio(ours / node)}${nodeCounts ? '' : ' (no target)'}` : '—';
    lines.push(
      `| ${config.id} | ${ms(ours)} | ${ratio(ours / web)} | ${nodeRatio} | ${withPeak(gflopsAt(ours))} | ` +
        `${withPeak(gflopsAt(limitMs))} | ${
          ours <= limitMs ? 'yes' : ceiling && gflopsAt(limitMs) > ceiling ? 'no (beyond the ceiling)' : 'no'
        } |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The packed targets: a packed forward ≤ 0.7× the padded forward of the same batch, ≤ 0.6× ORT Web's. */
const PACKED_VS_PADDED = 0.7;
const PACKED_VS_WEB = 0.6;

/**
 * One row per packed config and our backend that ran both its packed and its padded forward: the two
 * medians, packed ÷ padded, packed ÷ ONNX Runtime Web and Node (with `sequence_lens`) and ÷ PyTorch (the
 * OpenBLAS one when it ran), and whether the targets are met (the issue's targets are for WASM; the other
 * rows are for reading). Empty when no packed config ran.
 */
export function packedTargets(
  all: readonly { config: BenchConfig; results: readonly Measurement[] }[],
): string {
  const rows = all.filter(({ config }) => config.lengths);
  if (rows.length === 0) return '';
  const lines = [
    '### Packed sequences: packed forward against the padded forward and the peers',
    '',
    `Targets (WASM): packed ≤ ${PACKED_VS_PADDED}× the padded forward of the same batch (cost follows real ` +
      `tokens), ≤ ${PACKED_VS_WEB}× ONNX Runtime Web (wasm, 2 thr) with \`sequence_lens\`. Each timing ` +
      'includes packing the padded input and padding the output back, as in PyTorch.',
    '',
    '| config | ours | tokens | packed ms | padded ms | ÷ padded | ÷ ORT Web | ÷ ORT Node | ÷ PyTorch | met |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const { config, results } of rows) {
    const medianOf = (match: (name: string) => boolean): number | undefined => {
      const m = results.find((r) => match(r.runner.name));
      return m && 'summary' in m ? m.summary.median : undefined;
    };
    const web = medianOf((n) => n.startsWith('ONNX Runtime Web'));
    const node = medianOf((n) => n.startsWith('ONNX Runtime Node'));
    const torch =
      medianOf((n) => n.startsWith('PyTorch + OpenBLAS')) ?? medianOf((n) => n.startsWith('PyTorch'));
    const tokens = `${tokensOf(config)}/${config.batch * config.steps}`;
    const oursNames = results
      .filter((m) => m.runner.ours && results.some((p) => p.runner.name === paddedName(m.runner.name)))
      .map((m) => m.runner.name);
    if (oursNames.length === 0)
      lines.push(`| ${config.id} | — | ${tokens} | — | — | — | — | — | — | not timed |`);
    for (const name of oursNames) {
      const packed = medianOf((n) => n === name);
      const padded = medianOf((n) => n === paddedName(name));
      const of = (peer: number | undefined): string =>
        packed !== undefined && peer !== undefined ? ratio(packed / peer) : '—';
      const wasm = /wasm|default/.test(name);
      const paddedRow = results.find((m) => m.runner.name === paddedName(name));
      const met =
        paddedRow && 'unsupported' in paddedRow
          ? 'no padded reference (see its row)'
          : packed === undefined || padded === undefined || web === undefined
            ? 'not timed (ours, padded or ORT Web)'
            : packed <= PACKED_VS_PADDED * padded && packed <= PACKED_VS_WEB * web
              ? 'yes'
              : 'no';
      lines.push(
        `| ${config.id} | ${name} | ${tokens} | ${packed === undefined ? '—' : ms(packed)} | ` +
          `${padded === undefined ? '—' : ms(padded)} | ${of(padded)} | ${of(web)} | ${of(node)} | ${of(torch)} | ` +
          `${wasm ? met : '— (the targets are for WASM)'} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The training targets (WASM): ≤ 0.5× PyTorch + OpenBLAS on C1 and C5, ≤ 1.0× on C2, ≤ 0.1× tfjs. */
const TRAIN_TORCH_TARGET: Readonly<Record<string, number>> = { C1: 0.5, C2: 1.0, C5: 0.5 };
const TRAIN_TFJS_TARGET = 0.1;

/**
 * One row per training config and our implementation timed on it: the median ms of a step, ÷ PyTorch +
 * OpenBLAS, ÷ PyTorch as Debian installs it, ÷ tfjs (its faster backend, the stricter target) and whether
 * the targets are met (the issue's targets are for WASM; the TS row is for reading). A target whose peer did
 * not run (GRU: no tfjs row; no PyTorch in CI) is not counted, and the row says which. Empty when no
 * training config ran.
 */
export function trainingTargets(
  all: readonly { config: BenchConfig; results: readonly Measurement[] }[],
): string {
  const rows = all.filter(({ config }) => config.train);
  if (rows.length === 0) return '';
  const lines = [
    '### Training step: ours against PyTorch and tfjs',
    '',
    'One sample is one full step: zero the grads, forward in training mode, MSE against a fixed target, ' +
      'backward, SGD step. Targets (WASM): ≤ ' +
      Object.entries(TRAIN_TORCH_TARGET)
        .map(([shape, t]) => `${t}× on ${shape}`)
        .join(', ') +
      ` of PyTorch + OpenBLAS; ≤ ${TRAIN_TFJS_TARGET}× tfjs (the faster of its backends).`,
    '',
    '| config | ours | median ms | ÷ PyTorch + OpenBLAS | ÷ PyTorch (installed) | ÷ tfjs | met |',
    '|---|---|---:|---:|---:|---:|---|',
  ];
  for (const { config, results } of rows) {
    const medianOf = (match: (name: string) => boolean): number | undefined => {
      const m = results.find((r) => match(r.runner.name));
      return m && 'summary' in m ? m.summary.median : undefined;
    };
    const openblas = medianOf((n) => n.startsWith('PyTorch + OpenBLAS'));
    const installed = medianOf((n) => n.startsWith('PyTorch (default'));
    const tfjsTimes = results.flatMap((m) =>
      m.runner.name.startsWith('tfjs') && 'summary' in m ? [m.summary.median] : [],
    );
    const tf = tfjsTimes.length > 0 ? Math.min(...tfjsTimes) : undefined;
    const torchTarget = TRAIN_TORCH_TARGET[config.id.split('-')[0] ?? ''];
    const oursRows = results.filter((m) => m.runner.ours);
    if (oursRows.length === 0) lines.push(`| ${config.id} | — | — | — | — | — | not timed |`);
    for (const m of oursRows) {
      if (!('summary' in m)) {
        lines.push(`| ${config.id} | ${m.runner.name} | — | — | — | — | not timed (see its row) |`);
        continue;
      }
      const t = m.summary.median;
      const of = (peer: number | undefined): string => (peer === undefined ? '—' : ratio(t / peer));
      const checks: string[] = [];
      const missing: string[] = [];
      if (torchTarget === undefined) missing.push('no PyTorch target for this shape');
      else if (openblas === undefined) missing.push('PyTorch + OpenBLAS not timed');
      else checks.push(t <= torchTarget * openblas ? 'yes' : 'no');
      if (tf === undefined) missing.push('no tfjs row');
      else checks.push(t <= TRAIN_TFJS_TARGET * tf ? 'yes' : 'no');
      const verdict = checks.length === 0 ? '—' : checks.every((c) => c === 'yes') ? 'yes' : 'no';
      const met = /wasm|default/.test(m.runner.name)
        ? `${verdict}${missing.length ? ` (${missing.join('; ')})` : ''}`
        : '— (the targets are for WASM)';
      lines.push(
        `| ${config.id} | ${m.runner.name} | ${ms(t)} | ${of(openblas)} | ${of(installed)} | ${of(tf)} | ${met} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
