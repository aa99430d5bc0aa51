import { describe, expect, it } from 'vitest';
import { fillExponential, Generator } from '../random.js';
import { floats, ints, ops, plain } from '../testing/ops-fixture.js';
import { tensor } from './creation.js';
import { multinomial } from './sampling.js';

describe('multinomial: the samples of torch.multinomial under the same seed', () => {
  it.each(ops.exponential.map((c) => [`exponential_ seed ${c.seed}, ${c.size}`, c] as const))(
    '%s',
    (_, c) => {
      const out = fillExponential(new Float32Array(c.size), 1, new Generator(BigInt(c.seed)));
      expect(plain(floats({ shape: [c.size], data: Array.from(out) }))).toEqual(plain(floats(c.values)));
    },
  );

  const label = (c: (typeof ops.multinomial)[number]): string =>
    `${c.name}, ${c.numSamples} ${c.replacement ? 'with' : 'without'} replacement, seed ${c.seed}`;
  it.each(ops.multinomial.map((c) => [label(c), c] as const))('%s', (_, c) => {
    const generator = new Generator(BigInt(c.seed));
    const got = multinomial(floats(c.probs), c.numSamples, { replacement: c.replacement, generator });
    const want = ints(c.samples);
    expect(got.dtype).toBe('int32');
    expect(got.shape).toEqual(want.shape);
    expect(plain(got)).toEqual(plain(want));
  });

  it('follows the distribution (10 000 draws)', () => {
    const p = [0.1, 0.2, 0.7];
    const s = multinomial(tensor(p), 10_000, { replacement: true, generator: new Generator(1) }).dataSync();
    const counts = [0, 0, 0];
    for (const i of s) counts[i] = (counts[i] as number) + 1;
    for (const [i, n] of counts.entries()) expect(Math.abs(n / 10_000 - (p[i] as number))).toBeLessThan(0.02);
    const firsts = [0, 0, 0];
    const g = new Generator(2);
    for (let k = 0; k < 3000; k++) {
      const [first] = multinomial(tensor(p), 2, { generator: g }).dataSync();
      firsts[first as number] = (firsts[first as number] as number) + 1;
    }
    for (const [i, n] of firsts.entries()) expect(Math.abs(n / 3000 - (p[i] as number))).toBeLessThan(0.03);
  });

  it('rejects bad probabilities and sample counts with PyTorch messages', () => {
    const g = { generator: new Generator(0) };
    expect(() => multinomial(tensor([0, 0]), 1, g)).toThrow(
      'multinomial: invalid multinomial distribution (sum of probabilities <= 0)',
    );
    expect(() => multinomial(tensor([0, 0]), 2, { ...g, replacement: true })).toThrow(
      'multinomial: invalid multinomial distribution (sum of probabilities <= 0)',
    );
    expect(() => multinomial(tensor([-1, 1]), 1, g)).toThrow(
      'multinomial: probability tensor contains either `inf`, `nan` or element < 0',
    );
    expect(() => multinomial(tensor([Number.NaN, 1]), 1, g)).toThrow(
      'multinomial: probability tensor contains either `inf`, `nan` or element < 0',
    );
    expect(() => multinomial(tensor([-1, 1]), 2, { ...g, replacement: true })).toThrow(
      'multinomial: invalid multinomial distribution (encountering probability entry < 0)',
    );
    expect(() => multinomial(tensor([1, Number.POSITIVE_INFINITY]), 2, { ...g, replacement: true })).toThrow(
      'multinomial: invalid multinomial distribution (encountering probability entry = infinity or NaN)',
    );
    expect(() => multinomial(tensor([1, 1]), 3, g)).toThrow(
      'multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement (n_sample = 3, 2 categories)',
    );
    expect(() => multinomial(tensor([1, 1]), 0, g)).toThrow(
      'multinomial: cannot sample n_sample <= 0 samples (received 0)',
    );
    expect(() => multinomial(tensor(1), 1, g)).toThrow(
      'multinomial: prob_dist must be 1 or 2 dim, received shape []',
    );
    const ids = tensor([1, 1], undefined, { dtype: 'int32' });
    expect(() => multinomial(ids, 1, g)).toThrow('multinomial: expected a float32 tensor, received int32');
  });
});
