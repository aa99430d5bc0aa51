// Whole models exported by scripts/export_safetensors.py's export_model, and torch.save files refused.
import { readFileSync } from 'node:fs';
import { Tensor } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import {
  assertClose,
  checkpointFixtures,
  type EncodedTensor,
  readFixture,
  readFixtureBytes,
} from '../../../../fixtures/load.js';
import { Embedding, type EmbeddingOptions } from '../embedding.js';
import { GRU } from '../gru.js';
import { GRUCell } from '../gru-cell.js';
import { Linear, type LinearOptions } from '../linear.js';
import { LSTM, type LSTMOptions } from '../lstm.js';
import { LSTMCell } from '../lstm-cell.js';
import { Module } from '../module.js';
import { RNN } from '../rnn.js';
import { RNNCell } from '../rnn-cell.js';
import { SafetensorsError } from './errors.js';
import { readSafetensorsHeader } from './header.js';
import { loadSafetensors, readSafetensors } from './load.js';
import {
  moduleOptions,
  parseModules,
  type SafetensorsModuleEntry,
  type SafetensorsModules,
} from './modules.js';
import { saveSafetensors } from './save.js';

interface ModelCheckpoint {
  name: string;
  file: string;
  metadata: Record<string, string>;
  modules: SafetensorsModules;
  keys: string[];
  ids: { shape: number[]; data: number[] };
  logits: EncodedTensor;
  hN: EncodedTensor;
  cN: EncodedTensor;
}
interface TorchSaveFile {
  name: string;
  file: string;
  zip: boolean;
  head: number[];
}
interface ZooCheckpoint {
  file: string;
  metadata: Record<string, string>;
  modules: SafetensorsModules;
  keys: string[];
}
const { models, torchSave, zoo } = readFixture<{
  models: ModelCheckpoint[];
  torchSave: TorchSaveFile[];
  zoo: ZooCheckpoint;
}>('checkpoints.json');

/** The module a recorded entry describes: narrowing on `module` types `options`, no casts. */
function build(entry: SafetensorsModuleEntry): Module {
  switch (entry.module) {
    case 'RNN':
      return new RNN(entry.options);
    case 'LSTM':
      return new LSTM(entry.options);
    case 'GRU':
      return new GRU(entry.options);
    case 'RNNCell':
      return new RNNCell(entry.options);
    case 'LSTMCell':
      return new LSTMCell(entry.options);
    case 'GRUCell':
      return new GRUCell(entry.options);
    case 'Embedding':
      return new Embedding(entry.options);
    case 'Linear':
      return new Linear(entry.options);
  }
}

/** The exported PyTorch model: Embedding → LSTM (batch first) → Linear, written as in PyTorch. */
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
    const [out, next] = this.rnn.forward(this.embed.forward(ids));
    return [this.head.forward(out), next] as const;
  }
}

describe('whole-model checkpoints (export_model)', () => {
  it.each(models.map((m) => [m.name, m] as const))(
    '%s: rebuilds from its metadata, loads and gives PyTorch 1.13 logits and states',
    async (_, m) => {
      const { stateDict, metadata, modules, options } = readSafetensors(readFixtureBytes(m.file));
      expect(metadata).toEqual(m.metadata);
      expect(modules).toEqual(m.modules);
      expect(Object.keys(modules)).toEqual(['embed', 'rnn', 'head']);
      expect(Object.keys(stateDict).sort()).toEqual([...m.keys].sort());
      expect(options('rnn', 'LSTM')).toEqual({
        inputSize: 8,
        hiddenSize: 16,
        numLayers: 2,
        bias: true,
        batchFirst: true,
        dropout: 0,
        bidirectional: false,
        projSize: 0,
      });

      const model = new CharModel({
        embed: options('embed', 'Embedding'),
        rnn: options('rnn', 'LSTM'),
        head: options('head', 'Linear'),
      }).eval();
      expect(Object.keys(model.stateDict())).toEqual(m.keys);
      model.loadStateDict(stateDict);
      const ids = Tensor.fromArray(Int32Array.from(m.ids.data), m.ids.shape);
      const [logits, [hN, cN]] = model.forward(ids);
      await assertClose(logits, m.logits, `${m.name} logits`);
      await assertClose(hN, m.hN, `${m.name} hN`);
      await assertClose(cN, m.cN, `${m.name} cN`);
    },
  );

  it('records every module kind with its arguments: each rebuilds and takes its tensors', () => {
    const { stateDict, modules } = readSafetensors(readFixtureBytes(zoo.file));
    expect(modules).toEqual(zoo.modules);
    expect(new Set(Object.values(modules).map((m) => m.module))).toEqual(
      new Set(['RNN', 'LSTM', 'GRU', 'RNNCell', 'LSTMCell', 'GRUCell', 'Embedding', 'Linear']),
    );
    const loaded = new Set<string>();
    for (const [prefix, entry] of Object.entries(modules)) {
      const module = build(entry);
      // the file holds them sorted by name; the module lists them in PyTorch's order (zoo.keys)
      const own = zoo.keys.filter((k) => k.startsWith(`${prefix}.`));
      expect(Object.keys(module.stateDict()).map((k) => `${prefix}.${k}`)).toEqual(own);
      module.loadStateDict(stateDict, { prefix: `${prefix}.` });
      for (const [k, t] of Object.entries(module.stateDict())) {
        expect(t.dataSync(), `${prefix}.${k}`).toEqual(stateDict[`${prefix}.${k}`]?.dataSync());
        loaded.add(`${prefix}.${k}`);
      }
    }
    expect([...loaded].sort()).toEqual([...zoo.keys].sort());
  });

  it('narrowing on module types the options', () => {
    const [m] = models;
    const entry = readSafetensors(readFixtureBytes(m?.file ?? '')).modules.rnn;
    if (entry?.module !== 'LSTM') throw new Error('expected an LSTM at "rnn"');
    expect(new LSTM(entry.options).hiddenSize).toBe(16);
  });

  it('reads export_recurrent files as one module at ""', () => {
    for (const c of checkpointFixtures.checkpoints) {
      const read = readSafetensors(readFixtureBytes(c.file));
      expect(read.modules).toEqual({ '': { module: c.module ?? 'RNN', options: c.config } });
      expect(Object.keys(read.stateDict)).toEqual(Object.keys(loadSafetensors(readFixtureBytes(c.file))));
    }
    const c = checkpointFixtures.checkpoints.find((x) => (x.module ?? 'RNN') === 'RNN');
    const { options } = readSafetensors(readFixtureBytes(c?.file ?? ''));
    expect(new RNN(options('', 'RNN')).inputSize).toBe(c?.config.inputSize);
  });

  it('gives no modules for a file without them', () => {
    const bytes = saveSafetensors({}, { format: 'pt' });
    expect(readSafetensors(bytes)).toMatchObject({ stateDict: {}, metadata: { format: 'pt' }, modules: {} });
  });

  it('refuses metadata that is not what the exporter writes, naming it', () => {
    const error = (metadata: Record<string, string>) => {
      try {
        parseModules(metadata);
      } catch (e) {
        expect(e).toBeInstanceOf(SafetensorsError);
        return (e as SafetensorsError).message;
      }
      return 'no error';
    };
    expect(error({ modules: '{' })).toBe('safetensors: metadata "modules" is not valid JSON');
    expect(error({ modules: '[]' })).toBe(
      'safetensors: metadata "modules" must be a JSON object, received an array',
    );
    expect(error({ modules: '{"a":1}' })).toBe(
      'safetensors: metadata modules["a"] must be an object, received a number',
    );
    expect(error({ modules: '{"a":{"module":"Conv1d","options":{}}}' })).toBe(
      'safetensors: metadata modules["a"]: module "Conv1d" is not one @recurrent/nn has ' +
        '(RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell, Embedding, Linear)',
    );
    expect(error({ modules: '{"a":{"module":"GRU","options":null}}' })).toBe(
      'safetensors: metadata modules["a"]: options must be an object, received null',
    );
    expect(error({ rnn_options: 'x' })).toBe('safetensors: metadata "rnn_options" is not valid JSON');
    expect(error({ module: 'LSTM' })).toBe('no error');
  });

  it('options() names what is missing or different', () => {
    const modules = parseModules({
      modules: '{"rnn":{"module":"GRU","options":{"inputSize":1,"hiddenSize":2}}}',
    });
    expect(() => moduleOptions(modules, 'head', 'Linear')).toThrow(
      new SafetensorsError('the metadata records no module at "head" (it records "rnn")'),
    );
    expect(() => moduleOptions(modules, 'rnn', 'LSTM')).toThrow(
      new SafetensorsError('the module at "rnn" is a GRU, not a LSTM'),
    );
    expect(() => moduleOptions({}, 'toString', 'Linear')).toThrow(
      new SafetensorsError('the metadata records no module at "toString" (it records none)'),
    );
    expect(moduleOptions(modules, 'rnn', 'GRU')).toEqual({ inputSize: 1, hiddenSize: 2 });
  });
});

describe('torch.save files', () => {
  it('covers the zip format and the legacy one', () => {
    expect(torchSave.map((f) => f.zip).sort()).toEqual([false, true]);
  });

  it.each(torchSave.map((f) => [f.name, f] as const))(
    '%s: is refused as a torch.save file, naming the export script',
    (_, f) => {
      const bytes = readFixtureBytes(f.file);
      expect([...bytes.subarray(0, 16)]).toEqual(f.head);
      const kind = f.zip
        ? 'a zip archive, as torch.save writes since PyTorch 1.6'
        : 'the legacy pickle format';
      const message =
        `safetensors: this is a PyTorch torch.save file (${kind}), not safetensors; convert it with ` +
        'python3 scripts/export_safetensors.py model.pt model.safetensors ' +
        '(the script is also installed as node_modules/@recurrent/nn/scripts/export_safetensors.py)';
      for (const read of [loadSafetensors, readSafetensors, readSafetensorsHeader]) {
        expect(() => read(bytes)).toThrow(new SafetensorsError(message.slice('safetensors: '.length)));
        expect(() => read(bytes)).toThrow(message);
      }
    },
  );

  it('refuses a pickle of any protocol, but not a safetensors file whose length starts like one', () => {
    const pickle = Uint8Array.from([0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => loadSafetensors(pickle)).toThrow('this is a PyTorch torch.save file (a pickle)');
    // a 640-byte header: its length's bytes are 0x80 0x02, as a protocol-2 pickle starts
    const metadata = { pad: 'x'.repeat(640 - 27) };
    const bytes = saveSafetensors({}, metadata);
    expect([...bytes.subarray(0, 8)]).toEqual([0x80, 0x02, 0, 0, 0, 0, 0, 0]);
    expect(readSafetensorsHeader(bytes).metadata).toEqual(metadata);
  });

  it('the script the message names is the one the package ships', () => {
    const root = new URL('../../../../', import.meta.url);
    expect(readFileSync(new URL('packages/nn/scripts/export_safetensors.py', root), 'utf8')).toBe(
      readFileSync(new URL('scripts/export_safetensors.py', root), 'utf8'),
    );
  });
});
