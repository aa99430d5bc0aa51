// PyTorch checkpoints exported by scripts/export_safetensors.py run here with PyTorch's numbers.
import { describe, expect, it } from 'vitest';
import {
  assertClose,
  checkpointFixtures,
  decode,
  decodeStateDict,
  readFixtureBytes,
} from '../../../../fixtures/load.js';
import { GRU } from '../gru.js';
import { LSTM, type LSTMState } from '../lstm.js';
import { RNN, type RNNOptions } from '../rnn.js';
import { readSafetensorsHeader } from './header.js';
import { loadSafetensors } from './load.js';
import { saveSafetensors } from './save.js';

const cases = checkpointFixtures.checkpoints.map((c) => [c.name, c] as const);

describe('PyTorch checkpoints', () => {
  it('covers F32, F16, BF16 and F64 files', () => {
    expect(new Set(checkpointFixtures.checkpoints.map((c) => c.dtype))).toEqual(
      new Set(['F32', 'F16', 'BF16', 'F64']),
    );
  });

  it('covers nn.RNN, nn.LSTM (with projSize) and nn.GRU', () => {
    expect(new Set(checkpointFixtures.checkpoints.map((c) => c.module ?? 'RNN'))).toEqual(
      new Set(['RNN', 'LSTM', 'GRU']),
    );
  });

  it.each(cases)('%s: loads into its module and gives PyTorch 1.13 output and states', async (_, c) => {
    const bytes = readFixtureBytes(c.file);
    const header = readSafetensorsHeader(bytes);
    expect(header.metadata).toEqual(c.metadata);
    expect(new Set(header.tensors.map((t) => t.dtype))).toEqual(new Set([c.dtype]));

    const options = JSON.parse(header.metadata.rnn_options as string) as RNNOptions;
    expect(options).toEqual(c.config);
    const kind = header.metadata.module ?? 'RNN';
    expect(kind).toBe(c.module ?? 'RNN');
    const h0 = c.h0 ? decode(c.h0) : undefined;
    if (kind === 'LSTM') {
      const lstm = new LSTM(options).eval();
      lstm.loadStateDict(loadSafetensors(bytes));
      const state = h0 && c.c0 ? ([h0, decode(c.c0)] as LSTMState) : undefined;
      const [output, [hN, cN]] = lstm.forward(decode(c.input), state);
      await assertClose(output, c.output, `${c.name} output`);
      await assertClose(hN, c.hN, `${c.name} hN`);
      await assertClose(cN, c.cN as NonNullable<typeof c.cN>, `${c.name} cN`);
      return;
    }
    const rnn = kind === 'GRU' ? new GRU(options) : new RNN(options);
    rnn.loadStateDict(loadSafetensors(bytes));
    rnn.eval();
    const [output, hN] = rnn.forward(decode(c.input), h0);
    await assertClose(output, c.output, `${c.name} output`);
    await assertClose(hN, c.hN, `${c.name} hN`);
  });

  it.each(cases.filter(([, c]) => c.stateDict))('%s: converts to float32 exactly as PyTorch does', (_, c) => {
    const loaded = loadSafetensors(readFixtureBytes(c.file));
    const want = decodeStateDict(c.stateDict ?? {});
    expect(Object.keys(loaded).sort()).toEqual(Object.keys(want).sort());
    for (const [k, t] of Object.entries(want)) {
      expect(loaded[k]?.shape, k).toEqual(t.shape);
      expect(loaded[k]?.dataSync(), k).toEqual(t.dataSync());
    }
  });

  it.each(cases.filter(([, c]) => c.dtype === 'F32'))(
    '%s: saving what was loaded gives back the exporter’s file byte for byte',
    (_, c) => {
      const bytes = readFixtureBytes(c.file);
      expect(saveSafetensors(loadSafetensors(bytes), readSafetensorsHeader(bytes).metadata)).toEqual(bytes);
    },
  );
});
