// One model, moved between backends at run time: the numbers stay the same and so does the state dict.
import { manualSeed, randn, tensor } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { assertClose } from '../../../fixtures/load.js';
import { cpuBackend } from './backend/cpu.js';
import { RNN } from './rnn.js';
import { backendsUnderTest } from './testing/backends.js';

describe('moving one RNN between backends', () => {
  it.each(backendsUnderTest.filter((b) => b.name !== 'cpu').map((b) => [b.name, b] as const))(
    'cpu → %s → cpu, twice, gives the same numbers each time',
    async (_, { create }) => {
      const backend = await create();
      manualSeed(21);
      const rnn = new RNN({
        inputSize: 6,
        hiddenSize: 9,
        numLayers: 2,
        bidirectional: true,
        batchFirst: true,
      })
        .eval()
        .to(cpuBackend);
      const keys = Object.keys(rnn.stateDict());
      const x = randn([3, 11, 6]);
      const [cpuOut, cpuH] = rnn.forward(x);
      const onCpu = async (t: typeof cpuOut) => tensor(await t.data(), t.shape);
      for (let round = 0; round < 2; round++) {
        const [out, hN] = rnn.to(backend).forward(x);
        expect(out.device).toBe(backend.device);
        await assertClose(await onCpu(out), cpuOut, `round ${round} output on ${backend.device}`);
        await assertClose(await onCpu(hN), cpuH, `round ${round} hN on ${backend.device}`);
        const [back] = rnn.to(cpuBackend).forward(x);
        expect(back.device).toBe('cpu');
        expect(back.dataSync()).toEqual(cpuOut.dataSync()); // the CPU copy of the parameters never changed
      }
      expect(Object.keys(rnn.stateDict())).toEqual(keys);
    },
  );

  it("keeps PyTorch's state-dict keys, so checkpoints from earlier versions still load", () => {
    // pinned: changing these breaks every saved checkpoint (PyTorch's names for nn.RNN(…, num_layers=2, bidirectional=True))
    const keys = Object.keys(
      new RNN({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true }).stateDict(),
    );
    expect(keys).toEqual(
      [0, 1].flatMap((l) =>
        ['', '_reverse'].flatMap((s) => [
          `weight_ih_l${l}${s}`,
          `weight_hh_l${l}${s}`,
          `bias_ih_l${l}${s}`,
          `bias_hh_l${l}${s}`,
        ]),
      ),
    );
  });
});
