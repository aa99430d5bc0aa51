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
import {
  moduleOptions,
  parseModules,
  type SafetensorsModuleName,
  type SafetensorsModuleOptions,
  type SafetensorsModules,
} from './modules.js';

/** What `readSafetensors` and `readSafetensorsFile` give: the tensors and what the metadata records. */
export interface SafetensorsContents {
  /** Every tensor as a float32 CPU tensor, by name (what `loadSafetensors` returns). */
  readonly stateDict: Record<string, Tensor<'float32'>>;
  /** The free-form `__metadata__` string map (empty if the file has none). */
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * The recorded submodules by state-dict prefix (see `parseModules`): `{ rnn: { module: 'LSTM', options } }`
   * for a file `export_model` wrote, `{ '': … }` for one `export_recurrent` wrote, `{}` otherwise.
   */
  readonly modules: SafetensorsModules;
  /**
   * The options recorded at `prefix`, which must be a `module`: `new LSTM(options('rnn', 'LSTM'))`.
   * @throws SafetensorsError when nothing, or another module, is recorded there.
   */
  options<K extends SafetensorsModuleName>(prefix: string, module: K): SafetensorsModuleOptions[K];
}

/**
 * Reads a safetensors file like `loadSafetensors`, with its metadata and the options of the modules it
 * records: `const { stateDict, options } = readSafetensors(bytes)`, then
 * `new LSTM(options('rnn', 'LSTM'))` and `model.loadStateDict(stateDict)`.
 *
 * @throws SafetensorsError as `loadSafetensors` does, and for `modules` / `rnn_options` metadata that is
 *   not what `scripts/export_safetensors.py` writes.
 */
export function readSafetensors(
  bytes: SafetensorsBytes,
  options: SafetensorsReadOptions = {},
): SafetensorsContents {
  const file = toBytes(bytes);
  const { metadata, tensors, dataStart } = readSafetensorsHeader(file, options);
  return contents(decodeTensors(file, tensors, dataStart), metadata);
}

/** The result of `readSafetensors` for decoded tensors and the header's metadata. */
export function contents(
  stateDict: Record<string, Tensor<'float32'>>,
  metadata: Readonly<Record<string, string>>,
): SafetensorsContents {
  const modules = parseModules(metadata);
  return {
    stateDict,
    metadata,
    modules,
    options: <K extends SafetensorsModuleName>(prefix: string, module: K) =>
      moduleOptions(modules, prefix, module),
  };
}

/**
 * Reads a safetensors file into float32 CPU tensors, keyed by name: F32 as is, F16 and BF16 exactly,
 * F64 rounded to nearest (what `tensor.float()` gives in PyTorch). Each tensor owns a copy of its data.
 *
 * `rnn.loadStateDict(loadSafetensors(bytes))` loads a PyTorch checkpoint. In a browser, pass
 * `await file.arrayBuffer()`; in Node, `loadSafetensorsFile(path)` from `@recurrent/nn/node` reads the file.
 *
 * @throws SafetensorsError for a malformed or hostile file (see `readSafetensorsHeader`), for tensors
 *   of other dtypes (I64, U8, …), naming the tensor, and for a PyTorch `torch.save` file (zip or legacy
 *   pickle), naming `scripts/export_safetensors.py`, which converts it.
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
