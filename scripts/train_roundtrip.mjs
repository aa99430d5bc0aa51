// The TypeScript half of the safetensors round trip: trains fixtures/trajectory.json's 'lstm adam' case
// (Embedding → LSTM → Linear, 20 Adam steps on cpuBackend) with the built packages, and writes
// saveSafetensors(model.stateDict()) to fixtures/checkpoints/trained_in_ts.safetensors. Then
// scripts/fixtures/roundtrip_cases.py loads that file into the same PyTorch model (strict) and commits
// PyTorch's outputs; packages/nn/src/roundtrip.test.ts re-runs this training (same loop, on src/) and checks
// the bytes and PyTorch's outputs, so CI never needs PyTorch.
//
//   pnpm build && node scripts/train_roundtrip.mjs && /usr/bin/python3 scripts/gen_fixtures.py
//
// Run it again whenever trajectory.json changes (trajectory_cases.py), then roundtrip_cases.py.
import { readFileSync, writeFileSync } from 'node:fs';
import {
  Adam,
  cpuBackend,
  crossEntropyLoss,
  Embedding,
  Linear,
  LSTM,
  Module,
  saveSafetensors,
} from '../packages/nn/dist/index.js';
import { reshape, Tensor, tensor } from '../packages/tensor/dist/index.js';

const CASE = 'lstm adam';
const FILE = 'checkpoints/trained_in_ts.safetensors';
const METADATA = { format: 'pt', trainedBy: 'scripts/train_roundtrip.mjs', trajectory: CASE };

const fixtures = new URL('../fixtures/', import.meta.url);
const trajectory = JSON.parse(readFileSync(new URL('trajectory.json', fixtures), 'utf8'));
const c = trajectory.cases.find((x) => x.name === CASE);
if (c?.module !== 'LSTM' || c.optimizer !== 'Adam' || c.clip !== null) {
  throw new Error(`trajectory.json has no LSTM + Adam case '${CASE}' without clipping`);
}
const { vocab, embeddingDim, hiddenSize, numLayers, projSize } = c.config;

class TrajectoryModel extends Module {
  constructor() {
    super();
    this.embed = this.registerModule('embed', new Embedding({ numEmbeddings: vocab, embeddingDim }));
    this.rnn = this.registerModule(
      'rnn',
      new LSTM({ inputSize: embeddingDim, hiddenSize, numLayers, batchFirst: true, projSize }),
    );
    this.head = this.registerModule(
      'head',
      new Linear({ inFeatures: projSize || hiddenSize, outFeatures: vocab }),
    );
  }

  forward(ids) {
    const [out] = this.rnn.forward(this.embed.forward(ids));
    return this.head.forward(out);
  }
}

/** Step k's ids `tokens[:, :-1]` and flattened targets `tokens[:, 1:]`. */
function batch(k) {
  const b = trajectory.batches[k % trajectory.batches.length];
  const [n, t] = b.shape;
  const ids = new Int32Array(n * (t - 1));
  const targets = new Int32Array(n * (t - 1));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < t - 1; j++) {
      ids[i * (t - 1) + j] = b.data[i * t + j];
      targets[i * (t - 1) + j] = b.data[i * t + j + 1];
    }
  }
  return {
    ids: tensor(ids, [n, t - 1], { dtype: 'int32' }),
    targets: tensor(targets, [n * (t - 1)], { dtype: 'int32' }),
  };
}

const model = new TrajectoryModel();
model.loadStateDict(
  Object.fromEntries(
    Object.entries(c.init).map(([k, v]) => [k, Tensor.fromArray(Float32Array.from(v.data), v.shape)]),
  ),
);
model.to(cpuBackend).train();
const opt = new Adam(model.parameters(), c.options);
for (let k = 0; k < trajectory.steps; k++) {
  const { ids, targets } = batch(k);
  opt.zeroGrad();
  const loss = crossEntropyLoss(reshape(model.forward(ids), [-1, vocab]), targets);
  loss.backward();
  opt.step();
  console.log(`step ${k + 1}: loss ${loss.item()} (PyTorch ${c.steps[k].loss})`);
}
const bytes = saveSafetensors(model.stateDict(), METADATA);
writeFileSync(new URL(FILE, fixtures), bytes);
console.log(`wrote fixtures/${FILE} (${bytes.length} bytes)`);
