import { manualSeed, Tensor, zeros } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { assertClose, decode, decodeStateDict, moduleFixtures } from '../../../fixtures/load.js';
import { cpuBackend } from './backend/cpu.js';
import { Linear } from './linear.js';

describe('Linear against PyTorch', () => {
  describe.each(moduleFixtures.linear)('$name', (fx) => {
    it('draws PyTorch’s weights under manualSeed', async () => {
      manualSeed(fx.seed);
      const linear = new Linear(fx.config);
      const want = decodeStateDict(fx.stateDict);
      expect(Object.keys(linear.stateDict())).toEqual(Object.keys(want));
      for (const [k, v] of Object.entries(linear.stateDict())) {
        expect(v.dataSync(), k).toEqual((want[k] as Tensor).dataSync());
      }
    });

    it.each(fx.runs.map((r) => [r.input.shape.join('x'), r] as const))('forward on %s', async (_, run) => {
      const linear = new Linear(fx.config);
      linear.loadStateDict(decodeStateDict(fx.stateDict));
      await assertClose(linear.forward(decode(run.input)), run.output, fx.name);
    });
  });
});

describe('Linear', () => {
  it('has PyTorch’s parameter names and shapes', () => {
    const linear = new Linear({ inFeatures: 3, outFeatures: 2 });
    expect(linear.namedParameters().map(([k, v]) => [k, v.shape])).toEqual([
      ['weight', [2, 3]],
      ['bias', [2]],
    ]);
    expect(Object.keys(new Linear({ inFeatures: 3, outFeatures: 2, bias: false }).stateDict())).toEqual([
      'weight',
    ]);
  });

  it('keeps the leading dimensions, and works on empty batches and zero features', () => {
    const linear = new Linear({ inFeatures: 3, outFeatures: 2 });
    expect(linear.forward(zeros([0, 3])).shape).toEqual([0, 2]);
    expect(linear.forward(zeros([2, 1, 4, 3])).shape).toEqual([2, 1, 4, 2]);
    const noInputs = new Linear({ inFeatures: 0, outFeatures: 2 });
    expect([...noInputs.forward(zeros([3, 0])).dataSync()]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('rejects bad options and inputs with exact messages', () => {
    expect(() => new Linear({ inFeatures: 3, outFeatures: -1 })).toThrow(
      'Linear: outFeatures must be an integer >= 0, received -1',
    );
    expect(() => new Linear({ in_features: 3 } as never)).toThrow("Linear: unknown option 'in_features'");
    const linear = new Linear({ inFeatures: 3, outFeatures: 2 });
    expect(() => linear.forward(zeros([2, 4]))).toThrow(
      "Linear: input's last dimension must equal inFeatures (3), received shape [2, 4]",
    );
    expect(() => linear.forward(zeros([]))).toThrow(
      "Linear: input's last dimension must equal inFeatures (3), received shape []",
    );
    expect(() => linear.forward([1, 2, 3] as never)).toThrow(TypeError);
    expect(() => linear.forward(Tensor.fromArray(new Int32Array(3), [3]) as never)).toThrow(
      'Linear: input must be a float32 tensor, received int32',
    );
  });

  it("refuses tensors of another device than its backend's, naming both", () => {
    const gpuLike = new Tensor(
      {
        device: 'webgpu',
        length: 3,
        read: async () => new Float32Array(3),
        readSync: () => {
          throw new Error('no');
        },
        dispose: () => {},
      },
      [3],
    );
    const linear = new Linear({ inFeatures: 3, outFeatures: 2 }).to(cpuBackend);
    expect(() => linear.forward(gpuLike)).toThrow(
      "Linear: input is on 'webgpu' but the module runs on 'cpu (TypeScript)'; move the module with .to(backend) or pass a CPU tensor",
    );
  });
});
