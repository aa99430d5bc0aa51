import { numelOf, Tensor } from '@recurrent/tensor';
import { decodeToFloat32, isLoadable, type LoadableDtype } from './dtypes.js';
import { SafetensorsError } from './errors.js';
import {
  readSafetensorsHeader,
  type SafetensorsBytes,
  type SafetensorsReadOptions,
  type SafetensorsTensorInfo,
  toBytes,
} from './header.js';

/**
 * Reads a safetensors file into float32 CPU tensors, keyed by name: F32 as is, F16 and BF16 exactly,
 * F64 rounded to nearest (what `tensor.float()` gives in PyTorch). Each tensor owns a copy of its data.
 *
 * `rnn.loadStateDict(loadSafetensors(bytes))` loads a PyTorch checkpoint. In a browser, pass
 * `await file.arrayBuffer()`; in Node, `loadSafetensorsFile(path)` from `@recurrent/nn/node` reads the file.
 *
 * @throws SafetensorsError for a malformed or hostile file (see `readSafetensorsHeader`) and for tensors
 *   of other dtypes (I64, U8, …), naming the tensor.
 */
export function loadSafetensors(
  bytes: SafetensorsBytes,
  options: SafetensorsReadOptions = {},
): Record<string, Tensor<'float32'>> {
  const file = toBytes(bytes);
  const { tensors, dataStart } = readSafetensorsHeader(file, options);
  return decodeTensors(file, tensors, dataStart);
}

/**
 * The tensors of a validated header, decoded from `file` (whose data section starts at `dataStart`
 * and holds every tensor's byte range).
 */
export function decodeTensors(
  file: Uint8Array,
  tensors: readonly SafetensorsTensorInfo[],
  dataStart: number,
): Record<string, Tensor<'float32'>> {
  const plan = tensors.map((t): [LoadableDtype, SafetensorsTensorInfo] => {
    if (isLoadable(t.dtype)) return [t.dtype, t];
    throw new SafetensorsError(
      `dtype ${t.dtype} cannot be loaded: only F32, F16, BF16 and F64 convert to float32`,
      { tensor: t.name },
    );
  });
  return Object.fromEntries(
    plan.map(([dtype, { name, shape, dataOffsets }]) => {
      // exact: the header refused shapes whose element count passes 2^53 − 1 before a 0
      const data = decodeToFloat32(dtype, file, dataStart + dataOffsets[0], numelOf(shape));
      return [name, Tensor.fromArray(data, shape)];
    }),
  );
}
