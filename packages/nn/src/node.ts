/// <reference types="node" />
/**
 * `@recurrent/nn/node`: file-path helpers for Node. The main entry stays free of Node APIs for browsers.
 */
import { constants as bufferConstants } from 'node:buffer';
import { constants, type Stats } from 'node:fs';
import { type FileHandle, open, writeFile } from 'node:fs/promises';
import type { Tensor } from '@recurrent/tensor';
import { SafetensorsError } from './safetensors/errors.js';
import {
  checkReadOptions,
  headerLimit,
  parseHeaderBytes,
  readHeaderLength,
  type SafetensorsReadOptions,
} from './safetensors/header.js';
import { contents, decodeTensors, type SafetensorsContents } from './safetensors/load.js';
import { saveSafetensors } from './safetensors/save.js';

/**
 * Reads a .safetensors file into float32 CPU tensors (see `loadSafetensors`):
 * `rnn.loadStateDict(await loadSafetensorsFile('model.safetensors'))`.
 *
 * Reads the header first and the data only once the file's size is the one the header declares, so
 * a device (`/dev/zero`), a pipe or a truncated or overlong file is refused without reading it.
 *
 * @throws SafetensorsError naming the file, the tensor and the problem for a malformed file, for what
 *   is not a regular file, and for a file whose size is not 8 + the header length + the data the
 *   header declares; the file system's own error (ENOENT, EACCES, …) when it cannot be opened or read.
 */
export async function loadSafetensorsFile(
  path: string | URL,
  options: SafetensorsReadOptions = {},
): Promise<Record<string, Tensor>> {
  return (await readFile(path, options)).stateDict;
}

/**
 * Reads a .safetensors file like `loadSafetensorsFile`, with its metadata and the options of the modules
 * it records (see `readSafetensors`): `const { stateDict, options } = await readSafetensorsFile(path)`.
 *
 * @throws SafetensorsError as `loadSafetensorsFile` does, and for `modules` / `rnn_options` metadata
 *   that is not what `scripts/export_safetensors.py` writes.
 */
export async function readSafetensorsFile(
  path: string | URL,
  options: SafetensorsReadOptions = {},
): Promise<SafetensorsContents> {
  const { stateDict, metadata } = await readFile(path, options);
  try {
    return contents(stateDict, metadata);
  } catch (e) {
    throw withFile(e, path);
  }
}

async function readFile(
  path: string | URL,
  options: SafetensorsReadOptions,
): Promise<{ stateDict: Record<string, Tensor<'float32'>>; metadata: Readonly<Record<string, string>> }> {
  checkReadOptions(options, 'loadSafetensorsFile');
  // O_NONBLOCK: opening a FIFO for reading would wait for a writer; fstat refuses it right after
  const handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    return await readOpenFile(handle, options);
  } catch (e) {
    throw withFile(e, path);
  } finally {
    await handle.close();
  }
}

async function readOpenFile(
  handle: FileHandle,
  options: SafetensorsReadOptions,
): Promise<{ stateDict: Record<string, Tensor<'float32'>>; metadata: Readonly<Record<string, string>> }> {
  const limit = headerLimit(options.maxHeaderBytes);
  const stats = await handle.stat();
  if (!stats.isFile()) throw new SafetensorsError(`is ${kindOf(stats)}, not a regular file`);
  const size = stats.size;
  const prefix = await readExactly(handle, new Uint8Array(Math.min(8, size)), 0, size);
  const headerLength = readHeaderLength(prefix, size, limit);
  const dataStart = 8 + headerLength;
  const headerBytes = await readExactly(handle, new Uint8Array(headerLength), 8, size);
  const { metadata, tensors, dataEnd } = parseHeaderBytes(headerBytes);
  const declared = dataStart + dataEnd;
  if (size !== declared) {
    throw new SafetensorsError(
      `the file is ${size} bytes but its header declares ${declared} ` +
        `(8 + a ${headerLength}-byte header + ${dataEnd} bytes of tensor data)`,
    );
  }
  if (size > bufferConstants.MAX_LENGTH) {
    throw new SafetensorsError(
      `the file is ${size} bytes, more than the ${bufferConstants.MAX_LENGTH} one buffer can hold`,
    );
  }
  const file = new Uint8Array(size);
  file.set(prefix);
  file.set(headerBytes, 8);
  await readExactly(handle, file.subarray(dataStart), dataStart, size);
  return { stateDict: decodeTensors(file, tensors, dataStart), metadata };
}

/** Fills `into` from `position` on; a file that ends sooner changed after fstat gave `size`. */
async function readExactly(
  handle: FileHandle,
  into: Uint8Array,
  position: number,
  size: number,
): Promise<Uint8Array> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) {
      throw new SafetensorsError(
        `the file ended at byte ${position + done} but was ${size} bytes when opened: it changed while being read`,
      );
    }
    done += bytesRead;
  }
  return into;
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  return 'something else';
}

/** Writes CPU tensors (and optional string metadata) as a .safetensors file (see `saveSafetensors`). */
export async function saveSafetensorsFile(
  path: string | URL,
  tensors: Record<string, Tensor> | Map<string, Tensor>,
  metadata?: Record<string, string> | null,
): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = saveSafetensors(tensors, metadata);
  } catch (e) {
    throw withFile(e, path);
  }
  await writeFile(path, bytes);
}

function withFile(e: unknown, path: string | URL): unknown {
  if (!(e instanceof SafetensorsError)) return e;
  const file = path instanceof URL ? path.href : path;
  return new SafetensorsError(e.detail, { tensor: e.tensor, file, cause: e });
}
