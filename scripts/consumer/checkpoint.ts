// A whole PyTorch model (Embedding → LSTM → Linear) exported by export_safetensors.py's export_model,
// rebuilt from the options its metadata records, as a user of the published packages writes it
// (fixtures/checkpoints/char_lstm_model.safetensors, copied here with the ids and PyTorch's logits in
// model.json). No casts: `options(prefix, module)` is typed by the module asked for.
import { readFileSync } from 'node:fs';
import {
  Embedding,
  type EmbeddingOptions,
  Linear,
  type LinearOptions,
  LSTM,
  type LSTMOptions,
  Module,
  readSafetensors,
  type SafetensorsModules,
} from '@recurrent/nn';
import { readSafetensorsFile } from '@recurrent/nn/node';
import { maxAbsDiff, Tensor, tensor } from '@recurrent/tensor';

class CharModel extends Module {
  readonly embed: Embedding;
  readonly rnn: LSTM;
  readonly head: Linear;
  constructor(o: { embed: EmbeddingOptions; rnn: LSTMOptions; head: LinearOptions }) {
    super();
    this.embed = this.registerModule('embed', new Embedding(o.embed));
    this.rnn = this.registerModule('rnn', new LSTM(o.rnn));
    this.head = this.registerModule('head', new Linear(o.head));
  }
  forward(ids: Tensor<'int32'>) {
    const [out] = this.rnn.forward(this.embed.forward(ids));
    return this.head.forward(out);
  }
}

const { stateDict, options, modules } = await readSafetensorsFile('model.safetensors');
const model = new CharModel({
  embed: options('embed', 'Embedding'),
  rnn: options('rnn', 'LSTM'),
  head: options('head', 'Linear'),
});
model.loadStateDict(stateDict);
model.eval();

// narrowing on `module` types `options` too
const entry: SafetensorsModules[string] | undefined = readSafetensors(readFileSync('model.safetensors'))
  .modules.rnn;
const hidden = entry?.module === 'LSTM' ? entry.options.hiddenSize : -1;

const c = JSON.parse(readFileSync('model.json', 'utf8')) as {
  ids: { shape: number[]; data: number[] };
  logits: { shape: number[]; data: number[] };
};
const ids = Tensor.fromArray(Int32Array.from(c.ids.data), c.ids.shape);
const logits = model.forward(ids);
const want = tensor(Float32Array.from(c.logits.data), c.logits.shape);
console.log(
  JSON.stringify({
    logits: maxAbsDiff(logits, want),
    hidden,
    modules: Object.keys(modules),
    shape: logits.shape,
  }),
);
