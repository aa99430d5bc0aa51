// The char-rnn CLI: greedy generation from the committed checkpoint on the backend asked for.
//   pnpm --filter @recurrent/char-rnn sample -- --backend=cpu|wasm|webgpu [--prompt=TEXT] [--steps=N]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type Backend, cpuBackend, createCpuBackend } from '@recurrent/nn';
import { readSafetensorsFile } from '@recurrent/nn/node';
import { loadCharModel } from './char-model.js';
import { generate } from './generate.js';

const CHECKPOINT = new URL('../model/char_lstm.safetensors', import.meta.url);
const torch = JSON.parse(readFileSync(new URL('../model/generation.json', import.meta.url), 'utf8')) as {
  prompt: string;
  steps: number;
  text: string;
};

async function createBackend(name: string): Promise<Backend> {
  switch (name) {
    case 'cpu':
      return cpuBackend;
    case 'wasm':
      return createCpuBackend();
    case 'webgpu': {
      const { createWebGPUBackend } = await import('@recurrent/nn/webgpu');
      return createWebGPUBackend();
    }
    default:
      throw new RangeError(`--backend must be cpu, wasm or webgpu, received ${JSON.stringify(name)}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'), // `pnpm … sample -- --backend=…` may pass the --
    options: {
      backend: { type: 'string', default: 'wasm' },
      prompt: { type: 'string', default: torch.prompt },
      steps: { type: 'string', default: String(torch.steps) },
    },
  });
  const steps = Number(values.steps);
  const backend = await createBackend(values.backend);
  const { model, vocab } = loadCharModel(await readSafetensorsFile(CHECKPOINT));
  model.to(backend);
  const started = performance.now();
  process.stdout.write(values.prompt);
  const { text } = await generate(model, vocab, values.prompt, steps, {
    onStep: (char) => process.stdout.write(char),
  });
  const ms = performance.now() - started;
  process.stdout.write('\n');
  const same =
    values.prompt === torch.prompt && steps === torch.steps
      ? `; ${text === torch.text ? 'equals' : 'DIFFERS FROM'} PyTorch's generation (model/generation.json)`
      : '';
  console.error(`\n${steps} characters on ${backend.label} in ${ms.toFixed(0)} ms${same}`);
  backend.dispose();
  if (same.includes('DIFFERS')) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
