import { describe, expect, it } from 'vitest';
import { argmax, max, softmax, type Tensor, tensor } from './index.js';

describe("issue 11's public contract", () => {
  it('compiles and runs as written', () => {
    const ids = tensor(Int32Array.from([5, 9, 2]), [1, 3], { dtype: 'int32' });
    const logits: Tensor = tensor([[0.5, 2, -1, 2]]);
    const [values, indices] = max(logits, -1);
    const ints: Tensor<'int32'> = indices;
    const best: Int32Array = argmax(logits, -1).dataSync();
    const probs: Float32Array = softmax(logits, -1).dataSync();
    expect([ids.dtype, String(ids)]).toEqual(['int32', 'tensor([[5, 9, 2]], dtype=torch.int32)']);
    expect([values.tolist(), ints.tolist(), Array.from(best)]).toEqual([[2], [1], [1]]);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });
});
