// Installs the packed packages into fresh projects outside the workspace with plain npm and proves
// the selective installs work: CPU only, CPU + WebGPU, and the reference alone. Run after `pnpm build`.
//   node scripts/consumer-test.mjs [--skip-gpu]
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const here = join(root, 'scripts', 'consumer');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const work = mkdtempSync(join(tmpdir(), 'recurrent-consumer-'));
const tarballs = join(work, 'tarballs');
const run = (cmd, args, cwd, env = {}) =>
  execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
// pnpm, as the running script was started by (its npm_execpath is a JS file or, for pnpm 12, a native binary)
const execpath = process.env.npm_execpath;
const pnpm = !execpath
  ? ['npx', '-y', 'pnpm@12.4.2']
  : /\.[cm]?js$/.test(execpath)
    ? [process.execPath, execpath]
    : [execpath];
const step = (text) => console.log(`\n• ${text}`);
const fail = (text) => {
  console.error(`✗ ${text}`);
  process.exit(1);
};

// Every typecheck runs under the repo's TypeScript (5.9) and under 6 and 7 (7 is the native Go compiler; its
// `typescript` package ships `bin/tsc` and a per-platform binary as an optional dependency). 6 and 7 are installed
// with plain npm beside the consumer projects rather than as root devDependencies: as aliases their `tsc` bins
// would clash with 5.9's in node_modules/.bin, and pnpm links the highest version there.
const typescripts = { 6: '6.0.3', 7: '7.0.2' };
const compilers = [
  {
    version: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies.typescript,
    tsc: join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
  },
  ...Object.entries(typescripts).map(([major, version]) => ({
    version,
    tsc: join(work, 'typescript', 'node_modules', `typescript${major}`, 'bin', 'tsc'),
  })),
];
const typecheck = (dir, name, config, what) => {
  for (const { version, tsc } of compilers) {
    step(`${name}: TypeScript ${version}, tsc --noEmit -p ${config}${what}`);
    run(process.execPath, [tsc, '-p', config], dir);
  }
};

step(`installing TypeScript ${Object.values(typescripts).join(' and ')} into ${join(work, 'typescript')}`);
{
  const dir = join(work, 'typescript');
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer-typescript', private: true }));
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      '--loglevel=error',
      ...Object.entries(typescripts).map(
        ([major, version]) => `typescript${major}@npm:typescript@${version}`,
      ),
    ],
    dir,
  );
  for (const { version, tsc } of compilers) {
    const said = run(process.execPath, [tsc, '--version'], dir).trim();
    if (said !== `Version ${version}`) fail(`${tsc} says "${said}", want "Version ${version}"`);
  }
  console.log(`  ${compilers.map((c) => c.version).join(', ')}`);
}

step(`packing the published packages into ${tarballs}`);
mkdirSync(tarballs);
const packages = ['tensor', 'nn', 'reference', 'kernels-wasm', 'kernels-webgpu'].filter((p) =>
  existsSync(join(root, 'packages', p)),
);
for (const p of packages)
  run(pnpm[0], [...pnpm.slice(1), 'pack', '--pack-destination', tarballs], join(root, 'packages', p));
const tgz = (name) => {
  const file = readdirSync(tarballs).find((f) => f.startsWith(`recurrent-${name}-`));
  if (!file) fail(`no tarball for @recurrent/${name}`);
  return join(tarballs, file);
};

function project(name, deps, files) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module' }),
  );
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      '--loglevel=error',
      ...deps,
      '@types/node@20.19.43',
    ],
    dir,
  );
  for (const f of [...files, 'tsconfig.json']) copyFileSync(join(here, f), join(dir, f));
  typecheck(dir, name, 'tsconfig.json', ` (strict) on ${files.join(', ')}`);
  return dir;
}

// The published .d.ts with skipLibCheck false under each `lib` (tsconfig.json leaves it to the target's default)
function typecheckWithLibs(dir, name, libs) {
  for (const lib of libs) {
    const config = `tsconfig.${lib.join('-')}.json`;
    writeFileSync(
      join(dir, config),
      JSON.stringify({ extends: './tsconfig.json', compilerOptions: { lib, skipLibCheck: false } }),
    );
    typecheck(dir, name, config, `: skipLibCheck false, lib ${JSON.stringify(lib)}`);
  }
}

function bundleAndRun(dir, file, env = {}) {
  run(
    bin('esbuild'),
    [
      file,
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--external:webgpu',
      `--outfile=${file}.mjs`,
      '--log-level=warning',
    ],
    dir,
  );
  return JSON.parse(
    run(process.execPath, [`${file}.mjs`], dir, env)
      .trim()
      .split('\n')
      .pop(),
  );
}

// 1. CPU only
const cpu = project(
  'cpu',
  [tgz('tensor'), tgz('kernels-wasm'), tgz('nn')],
  ['cpu.ts', 'lstm-gru.ts', 'checkpoint.ts'],
);
for (const absent of ['@recurrent/kernels-webgpu', 'webgpu', '@webgpu/types']) {
  if (existsSync(join(cpu, 'node_modules', absent)))
    fail(`cpu: ${absent} was installed, but it must stay optional`);
}
console.log('  @recurrent/kernels-webgpu, webgpu and @webgpu/types are not installed');
const torch = JSON.parse(readFileSync(join(root, 'fixtures', 'notebook.json'), 'utf8')).cell1;
const got = bundleAndRun(cpu, 'cpu.ts');
if (
  got.output !== torch.output ||
  got.h_n !== torch.h_n ||
  JSON.stringify(got.shapes) !== JSON.stringify(torch.shapes) ||
  !(got.wasmVsCpu <= 1e-5)
) {
  fail(`cpu: printed ${JSON.stringify(got)}, PyTorch printed ${JSON.stringify(torch)}`);
}
console.log(`  runs under Node and prints PyTorch's numbers:\n${got.output}`);
console.log(`  max |wasm − cpu| = ${got.wasmVsCpu.toExponential(2)} (@recurrent/kernels-wasm, one thread)`);
typecheckWithLibs(cpu, 'cpu', [['dom', 'esnext'], ['esnext']]);
step('nn: the tarball ships the export script at scripts/export_safetensors.py');
{
  const listing = run('tar', ['-tzf', tgz('nn')], work).split('\n');
  if (!listing.includes('package/scripts/export_safetensors.py'))
    fail('nn: package/scripts/export_safetensors.py is not in the tarball');
  const shipped = join(cpu, 'node_modules', '@recurrent', 'nn', 'scripts', 'export_safetensors.py');
  if (readFileSync(shipped, 'utf8') !== readFileSync(join(root, 'scripts', 'export_safetensors.py'), 'utf8'))
    fail(`nn: ${shipped} differs from scripts/export_safetensors.py`);
  console.log('  node_modules/@recurrent/nn/scripts/export_safetensors.py is scripts/export_safetensors.py');
}
step('cpu: the LSTM/GRU usage as written, on a PyTorch LSTM checkpoint');
{
  const checkpoints = JSON.parse(
    readFileSync(join(root, 'fixtures', 'checkpoints.json'), 'utf8'),
  ).checkpoints;
  const c = checkpoints.find((x) => x.name === 'lstm_proj_bidirectional_2layers_batch_first');
  if (!c) fail('fixture lstm_proj_bidirectional_2layers_batch_first missing');
  copyFileSync(join(root, 'fixtures', c.file), join(cpu, 'lstm.safetensors'));
  const fields = ['input', 'h0', 'c0', 'output', 'hN', 'cN'];
  writeFileSync(join(cpu, 'case.json'), JSON.stringify(Object.fromEntries(fields.map((k) => [k, c[k]]))));
  const lstm = bundleAndRun(cpu, 'lstm-gru.ts');
  const shapes = '[[3,4,6],[4,2,7],[1,2,7],[2,7],[2,7],[2,7]]';
  if (
    !(lstm.output <= 1e-4 && lstm.hN <= 1e-4 && lstm.cN <= 1e-4) ||
    JSON.stringify(lstm.shapes) !== shapes
  ) {
    fail(
      `cpu: LSTM/GRU printed ${JSON.stringify(lstm)}; want max |Δ| ≤ 1e-4 vs PyTorch and shapes ${shapes}`,
    );
  }
  console.log(
    `  max |Δ| vs PyTorch: output ${lstm.output.toExponential(2)}, hN ${lstm.hN.toExponential(2)}, cN ${lstm.cN.toExponential(2)}`,
  );
}
step('cpu: a whole PyTorch model rebuilt from its checkpoint’s metadata (readSafetensorsFile)');
{
  const m = JSON.parse(readFileSync(join(root, 'fixtures', 'checkpoints.json'), 'utf8')).models?.[0];
  if (!m) fail('fixture char_lstm_model missing');
  copyFileSync(join(root, 'fixtures', m.file), join(cpu, 'model.safetensors'));
  writeFileSync(join(cpu, 'model.json'), JSON.stringify({ ids: m.ids, logits: m.logits }));
  const got = bundleAndRun(cpu, 'checkpoint.ts');
  if (
    !(got.logits <= 1e-4) ||
    got.hidden !== 16 ||
    JSON.stringify(got.modules) !== '["embed","rnn","head"]' ||
    JSON.stringify(got.shape) !== JSON.stringify(m.logits.shape)
  ) {
    fail(`cpu: the whole model printed ${JSON.stringify(got)}; want logits within 1e-4 of PyTorch's`);
  }
  console.log(
    `  modules ${got.modules.join(', ')}; max |Δ logits| vs PyTorch ${got.logits.toExponential(2)}`,
  );
}
step('cpu: a browser bundle holds no WGSL and no WebGPU code');
run(
  bin('esbuild'),
  ['cpu.ts', '--bundle', '--platform=browser', '--format=esm', '--outfile=browser.js', '--log-level=warning'],
  cpu,
);
const bundle = readFileSync(join(cpu, 'browser.js'), 'utf8');
for (const marker of [
  '@compute',
  '@workgroup_size',
  'navigator.gpu',
  'requestAdapter',
  'GPUBufferUsage',
  'kernels-webgpu',
]) {
  if (bundle.includes(marker)) fail(`cpu: the browser bundle contains "${marker}"`);
}
console.log(
  `  ${(bundle.length / 1024).toFixed(0)} KiB, none of @compute, navigator.gpu, requestAdapter, GPUBufferUsage`,
);

// 2. CPU + WebGPU: the types always, the run only with a GPU. TypeScript 5 gets @webgpu/types through the
// `types@<6` entry of @recurrent/kernels-webgpu; 6 and 7 get the WebGPU types of their lib.dom, which clash with
// @webgpu/types. WebGPU is a DOM API (@webgpu/types itself needs lib.dom), so no `lib: ["esnext"]` alone here.
const skipGpu = process.argv.includes('--skip-gpu');
const gpu = project(
  'gpu',
  [
    tgz('tensor'),
    tgz('kernels-wasm'),
    tgz('nn'),
    tgz('kernels-webgpu'),
    ...(skipGpu ? [] : ['webgpu@0.6.2']),
  ],
  ['gpu.ts'],
);
typecheckWithLibs(gpu, 'gpu', [['dom', 'esnext']]);
if (skipGpu) {
  step('cpu+webgpu: the run skipped (--skip-gpu)');
} else {
  step('cpu+webgpu: the same model on the GPU and back');
  const result = bundleAndRun(gpu, 'gpu.ts');
  if (result.device !== 'webgpu' || !(result.gpuVsCpu <= 1e-4) || result.backVsCpu !== 0) {
    fail(`cpu+webgpu: ${JSON.stringify(result)}`);
  }
  console.log(`  max |webgpu − cpu| = ${result.gpuVsCpu.toExponential(2)}; back on the CPU: identical`);
}

// 3. the reference with only the tensor package
const ref = project('reference', [tgz('tensor'), tgz('reference')], ['reference.ts']);
typecheckWithLibs(ref, 'reference', [['dom', 'esnext'], ['esnext']]);
const shapes = bundleAndRun(ref, 'reference.ts').shapes;
if (JSON.stringify(shapes) !== '[[2,3,3],[1,2,3]]') fail(`reference: shapes ${JSON.stringify(shapes)}`);
console.log('  rnnForward runs with only @recurrent/tensor installed');

step('publint and are-the-types-wrong (ESM-only profile) on every package');
for (const p of packages) {
  const file = tgz(p);
  run(bin('publint'), ['--strict', file], root);
  run(bin('attw'), [file, '--profile', 'esm-only', '--format', 'table-flipped'], root);
  console.log(`  @recurrent/${p}: ok`);
}
console.log('\nconsumer tests passed');
