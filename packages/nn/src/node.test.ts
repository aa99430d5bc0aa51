import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Tensor, tensor } from '@recurrent/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertClose,
  checkpointFixtures,
  decode,
  fixturePath,
  readFixtureBytes,
} from '../../../fixtures/load.js';
import { loadSafetensorsFile, saveSafetensorsFile } from './node.js';
import { RNN } from './rnn.js';
import { SafetensorsError } from './safetensors/errors.js';
import { loadSafetensors } from './safetensors/load.js';

describe('@recurrent/nn/node', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recurrent-safetensors-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a PyTorch checkpoint from a path or a file URL and runs it with PyTorch’s numbers', async () => {
    const c = checkpointFixtures.checkpoints.find((x) => x.name === 'bidirectional_2layers_batch_first');
    if (!c) throw new Error('fixture missing');
    for (const path of [fixturePath(c.file), pathToFileURL(fixturePath(c.file))]) {
      const rnn = new RNN(c.config);
      rnn.loadStateDict(await loadSafetensorsFile(path));
      const [output, hN] = rnn.eval().forward(decode(c.input), c.h0 ? decode(c.h0) : undefined);
      await assertClose(output, c.output, 'output');
      await assertClose(hN, c.hN, 'hN');
    }
  });

  it('saves a file that loads back, and writes the bytes saveSafetensors gives', async () => {
    const path = join(dir, 'w.safetensors');
    const dict = { w: tensor([[1, 2, 3]]), b: Tensor.fromArray(new Float32Array([0.5]), []) };
    await saveSafetensorsFile(path, dict, { format: 'pt' });
    const loaded = await loadSafetensorsFile(path);
    expect(loaded.w?.tolist()).toEqual([[1, 2, 3]]);
    expect(loaded.b?.item()).toBe(0.5);
    const again = join(dir, 'again.safetensors');
    await saveSafetensorsFile(again, new Map(Object.entries(loaded)), { format: 'pt' });
    expect(await readFile(again)).toEqual(await readFile(path));
  });

  it('names the file in errors from its contents, and passes file-system errors through', async () => {
    const path = join(dir, 'bad.safetensors');
    const bytes = readFixtureBytes('checkpoints/relu_no_bias.safetensors').slice(0, 100);
    await writeFile(path, bytes);
    const error = await loadSafetensorsFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SafetensorsError);
    expect((error as SafetensorsError).message).toBe(
      `safetensors: ${path}: the header length 344 runs past the end of the file (92 bytes follow the length)`,
    );
    expect((error as SafetensorsError).file).toBe(path);
    await expect(loadSafetensorsFile(join(dir, 'missing.safetensors'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    await expect(
      saveSafetensorsFile(join(dir, 'x.safetensors'), { __metadata__: tensor([1]) }),
    ).rejects.toThrow(
      `safetensors: ${join(dir, 'x.safetensors')}: "__metadata__" is reserved for the metadata and cannot name a tensor`,
    );
  });

  it('reads what it is given the same way as loadSafetensors on the bytes', async () => {
    const file = 'checkpoints/two_layers_unbatched.safetensors';
    const a = await loadSafetensorsFile(fixturePath(file));
    const b = loadSafetensors(readFixtureBytes(file));
    for (const [k, t] of Object.entries(b)) expect(a[k]?.dataSync()).toEqual(t.dataSync());
  });
});
