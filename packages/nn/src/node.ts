/// <reference types="node" />
// @recurrent/nn/node: file-path helpers for Node. The main entry stays free of Node APIs for browsers.
import { readFile, writeFile } from 'node:fs/promises';
import type { Tensor } from '@recurrent/tensor';
import { SafetensorsError } from './safetensors/errors.js';
import type { SafetensorsReadOptions } from './safetensors/header.js';
import { loadSafetensors } from './safetensors/load.js';
import { saveSafetensors } from './safetensors/save.js';

/**
 * Reads a .safetensors file into float32 CPU tensors (see `loadSafetensors`):
 * `rnn.loadStateDict(await loadSafetensorsFile('model.safetensors'))`.
 *
 * @throws SafetensorsError naming the file, the tensor and the problem for a malformed file;
 *   the file system's own error (ENOENT, EACCES, …) when it cannot be read.
 */
export async function loadSafetensorsFile(
  path: string | URL,
  options?: SafetensorsReadOptions,
): Promise<Record<string, Tensor>> {
  const bytes = await readFile(path);
  try {
    return loadSafetensors(bytes, options);
  } catch (e) {
    throw withFile(e, path);
  }
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
