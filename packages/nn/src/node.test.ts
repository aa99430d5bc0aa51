import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
import { loadSafetensorsFile, readSafetensorsFile, saveSafetensorsFile } from './node.js';
import { RNN } from './rnn.js';
import { SafetensorsError } from './safetensors/errors.js';
import { readSafetensorsHeader } from './safetensors/header.js';
import { loadSafetensors, readSafetensors } from './safetensors/load.js';

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

  it('reads a whole-model checkpoint with its metadata and modules, as readSafetensors does', async () => {
    const file = 'checkpoints/char_lstm_model.safetensors';
    const read = await readSafetensorsFile(fixturePath(file));
    const want = readSafetensors(readFixtureBytes(file));
    expect(read.metadata).toEqual(want.metadata);
    expect(read.modules).toEqual(want.modules);
    expect(read.options('head', 'Linear')).toEqual({ inFeatures: 16, outFeatures: 20, bias: true });
    expect(Object.keys(read.stateDict)).toEqual(Object.keys(want.stateDict));
    for (const [k, t] of Object.entries(want.stateDict))
      expect(read.stateDict[k]?.dataSync(), k).toEqual(t.dataSync());
  });

  it('refuses a torch.save file, naming the file and the export script', async () => {
    for (const [name, kind] of [
      ['zip', 'a zip archive, as torch.save writes since PyTorch 1.6'],
      ['legacy', 'the legacy pickle format'],
    ] as const) {
      const path = fixturePath(`checkpoints/linear_state_dict_${name}.pt`);
      for (const read of [loadSafetensorsFile, readSafetensorsFile]) {
        const error = await read(path).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SafetensorsError);
        expect((error as SafetensorsError).message).toBe(
          `safetensors: ${path}: this is a PyTorch torch.save file (${kind}), not safetensors; convert it with ` +
            'python3 scripts/export_safetensors.py model.pt model.safetensors ' +
            '(the script is also installed as node_modules/@recurrent/nn/scripts/export_safetensors.py)',
        );
      }
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

  it('refuses a file whose size is not the one its header declares, before reading its data', async () => {
    const bytes = readFixtureBytes('checkpoints/relu_no_bias.safetensors');
    const { dataStart, tensors } = readSafetensorsHeader(bytes);
    const dataEnd = tensors.at(-1)?.dataOffsets[1] ?? 0;
    expect(dataStart + dataEnd).toBe(bytes.length);
    const declares = `its header declares ${bytes.length} (8 + a ${dataStart - 8}-byte header + ${dataEnd} bytes of tensor data)`;
    const cases: [string, Uint8Array, number][] = [
      ['truncated.safetensors', bytes.subarray(0, bytes.length - 5), bytes.length - 5],
      ['header-only.safetensors', bytes.subarray(0, dataStart), dataStart],
      ['trailing.safetensors', new Uint8Array([...bytes, 0, 0, 0]), bytes.length + 3],
    ];
    for (const [name, contents, size] of cases) {
      const path = join(dir, name);
      await writeFile(path, contents);
      const error = await loadSafetensorsFile(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SafetensorsError);
      expect((error as SafetensorsError).message).toBe(
        `safetensors: ${path}: the file is ${size} bytes but ${declares}`,
      );
    }
  });

  it('names both sizes when the header claims terabytes the file does not have', async () => {
    const path = join(dir, 'huge.safetensors');
    const header = '{"w":{"dtype":"F32","shape":[1000000000000],"data_offsets":[0,4000000000000]}}';
    const json = new TextEncoder().encode(header);
    const bytes = new Uint8Array(8 + json.length + 4);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
    bytes.set(json, 8);
    await writeFile(path, bytes);
    await expect(loadSafetensorsFile(path)).rejects.toThrow(
      `safetensors: ${path}: the file is ${bytes.length} bytes but its header declares ${8 + json.length + 4e12} ` +
        `(8 + a ${json.length}-byte header + 4000000000000 bytes of tensor data)`,
    );
  });

  // Before, the whole "file" was read first: /dev/zero grew memory without limit, a FIFO waited for a writer.
  it.runIf(process.platform === 'linux')(
    'refuses what is not a regular file (a device, a directory, a FIFO) without reading it',
    async () => {
      const fifo = join(dir, 'pipe.safetensors');
      execFileSync('mkfifo', [fifo]);
      const folder = join(dir, 'folder.safetensors');
      await mkdir(folder);
      const cases: [string, string][] = [
        ['/dev/zero', 'a character device'],
        [folder, 'a directory'],
        [fifo, 'a FIFO (named pipe)'],
      ];
      for (const [path, kind] of cases) {
        const error = await loadSafetensorsFile(path).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SafetensorsError);
        expect((error as SafetensorsError).message).toBe(
          `safetensors: ${path}: is ${kind}, not a regular file`,
        );
        expect((error as SafetensorsError).file).toBe(path);
      }
    },
    10_000,
  );

  it('reads what it is given the same way as loadSafetensors on the bytes', async () => {
    const file = 'checkpoints/two_layers_unbatched.safetensors';
    const a = await loadSafetensorsFile(fixturePath(file));
    const b = loadSafetensors(readFixtureBytes(file));
    for (const [k, t] of Object.entries(b)) expect(a[k]?.dataSync()).toEqual(t.dataSync());
  });
});
