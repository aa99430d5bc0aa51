import { manualSeed, Tensor, zeros } from '@recurrent/tensor';
import { describe, expect, it } from 'vitest';
import { decode, decodeStateDict, type EncodedIntTensor, moduleFixtures } from '../../../fixtures/load.js';
import { Embedding } from './embedding.js';

const ints = (t: EncodedIntTensor) => Tensor.fromArray(Int32Array.from(t.data), t.shape);

describe('Embedding against PyTorch', () => {
  describe.each(moduleFixtures.embedding)('$name', (fx) => {
    it('draws PyTorch’s table under manualSeed, with the padding row zeroed', () => {
      manualSeed(fx.seed);
      const embedding = new Embedding(fx.config);
      expect(embedding.paddingIdx).toBe(fx.paddingIdx);
      expect(embedding.stateDict().weight?.dataSync()).toEqual(
        decodeStateDict(fx.stateDict).weight?.dataSync(),
      );
    });

    it.each(fx.runs.map((r) => [r.indices.shape.join('x'), r] as const))('looks up %s', (_, run) => {
      const embedding = new Embedding(fx.config);
      embedding.loadStateDict(decodeStateDict(fx.stateDict));
      const out = embedding.forward(ints(run.indices));
      expect(out.shape).toEqual(run.output.shape);
      expect(out.dataSync()).toEqual(decode(run.output).dataSync());
    });
  });
});

describe('Embedding', () => {
  it('maps indices of any shape to (…, embeddingDim), a 0-d index included', () => {
    const embedding = new Embedding({ numEmbeddings: 4, embeddingDim: 2 });
    const w = embedding.stateDict().weight?.dataSync() as Float32Array;
    const out = embedding.forward(Tensor.fromArray(Int32Array.of(3), []));
    expect(out.shape).toEqual([2]);
    expect([...out.dataSync()]).toEqual([w[6], w[7]]);
    expect(embedding.forward(Tensor.fromArray(new Int32Array(0), [2, 0])).shape).toEqual([2, 0, 2]);
  });

  it('names an index out of range, its position and numEmbeddings', () => {
    const embedding = new Embedding({ numEmbeddings: 71, embeddingDim: 3 });
    expect(() => embedding.forward(Tensor.fromArray(Int32Array.of(5, 9, 2, 0, 71, 1), [2, 3]))).toThrow(
      new RangeError(
        'Embedding: index 71 at position [1, 1] is out of range for numEmbeddings 71 (indices must be in [0, 70])',
      ),
    );
    expect(() => embedding.forward(Tensor.fromArray(Int32Array.of(-1), [1]))).toThrow(
      'Embedding: index -1 at position [0] is out of range for numEmbeddings 71',
    );
  });

  it('refuses float indices, like PyTorch', () => {
    const embedding = new Embedding({ numEmbeddings: 5, embeddingDim: 3 });
    expect(() => embedding.forward(zeros([2]))).toThrow(
      new TypeError(
        "Embedding: indices must be an int32 tensor (like PyTorch's integer indices), received a float32 tensor; " +
          "convert it with t.int() or build it with { dtype: 'int32' }",
      ),
    );
  });

  it('checks paddingIdx as PyTorch does', () => {
    expect(new Embedding({ numEmbeddings: 5, embeddingDim: 1, paddingIdx: -5 }).paddingIdx).toBe(0);
    expect(new Embedding({ numEmbeddings: 5, embeddingDim: 1 }).paddingIdx).toBe(null);
    expect(() => new Embedding({ numEmbeddings: 5, embeddingDim: 1, paddingIdx: 5 })).toThrow(
      'Embedding: paddingIdx must be an integer in [-5, 4] (within numEmbeddings 5), received 5',
    );
    expect(() => new Embedding({ numEmbeddings: 5, embeddingDim: 1, paddingIdx: -6 })).toThrow(RangeError);
    expect(() => new Embedding({ num_embeddings: 5 } as never)).toThrow(
      "Embedding: unknown option 'num_embeddings' (did you mean 'numEmbeddings'?)",
    );
  });
});
