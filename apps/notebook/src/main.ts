import { renderNotebook, runNotebook } from './notebook.js';

const seedArg = process.argv.find((a) => a.startsWith('--seed='));
const seed = seedArg ? Number(seedArg.slice('--seed='.length)) : 0;
if (!Number.isInteger(seed) || seed < 0) {
  console.error(`--seed must be a non-negative integer, received ${seedArg}`);
  process.exit(2);
}
console.log(
  `recurrent: the notebook, in TypeScript (manualSeed(${seed}) — the same numbers as torch.manual_seed(${seed}))\n`,
);
console.log(renderNotebook(runNotebook(seed)));
