import type { EmbeddingOptions } from '../embedding.js';
import type { GRUOptions } from '../gru.js';
import type { GRUCellOptions } from '../gru-cell.js';
import type { LinearOptions } from '../linear.js';
import type { LSTMOptions } from '../lstm.js';
import type { LSTMCellOptions } from '../lstm-cell.js';
import type { RNNOptions } from '../rnn.js';
import type { RNNCellOptions } from '../rnn-cell.js';
import { describe, quote, SafetensorsError } from './errors.js';

/** The options of each module `scripts/export_safetensors.py` records, by the name it records. */
export interface SafetensorsModuleOptions {
  RNN: RNNOptions;
  LSTM: LSTMOptions;
  GRU: GRUOptions;
  RNNCell: RNNCellOptions;
  LSTMCell: LSTMCellOptions;
  GRUCell: GRUCellOptions;
  Embedding: EmbeddingOptions;
  Linear: LinearOptions;
}

/** `'RNN'`, `'LSTM'`, `'GRU'`, their cells, `'Embedding'` or `'Linear'`. */
export type SafetensorsModuleName = keyof SafetensorsModuleOptions;

/** One submodule's record: narrowing on `module` types `options` (`if (m.module === 'LSTM') new LSTM(m.options)`). */
export type SafetensorsModuleEntry = {
  [K in SafetensorsModuleName]: { readonly module: K; readonly options: SafetensorsModuleOptions[K] };
}[SafetensorsModuleName];

/** Every recorded submodule by its state-dict prefix (`'rnn'`, `'head.0'`; `''` for the model itself). */
export type SafetensorsModules = Readonly<Record<string, SafetensorsModuleEntry>>;

const NAMES: readonly string[] = [
  'RNN',
  'LSTM',
  'GRU',
  'RNNCell',
  'LSTMCell',
  'GRUCell',
  'Embedding',
  'Linear',
] satisfies SafetensorsModuleName[];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The submodules a file's metadata records: its `modules` entry (JSON, written by `export_model`) or,
 * for a file `export_recurrent` wrote (metadata `rnn_options`, and `module` or no `module` for an nn.RNN),
 * the module itself under `''`. Empty when the metadata records neither. The options' values are left to
 * the constructors to check.
 *
 * @throws SafetensorsError when `modules` or `rnn_options` is not the JSON the exporter writes, or names
 *   a module @recurrent/nn does not have.
 */
export function parseModules(metadata: Readonly<Record<string, string>>): SafetensorsModules {
  const modules: Record<string, SafetensorsModuleEntry> = {};
  const single = metadata.rnn_options;
  if (single !== undefined) {
    modules[''] = entry('rnn_options', {
      module: metadata.module ?? 'RNN',
      options: parse('rnn_options', single),
    });
  }
  const all = metadata.modules;
  if (all === undefined) return modules;
  const parsed = parse('modules', all);
  for (const [prefix, value] of Object.entries(parsed))
    modules[prefix] = entry(`modules[${quote(prefix)}]`, value);
  return modules;
}

function parse(key: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SafetensorsError(`metadata "${key}" is not valid JSON`);
  }
  if (!isObject(value))
    throw new SafetensorsError(`metadata "${key}" must be a JSON object, received ${describe(value)}`);
  return value;
}

function entry(where: string, value: unknown): SafetensorsModuleEntry {
  if (!isObject(value))
    throw new SafetensorsError(`metadata ${where} must be an object, received ${describe(value)}`);
  const { module, options } = value;
  if (typeof module !== 'string' || !NAMES.includes(module)) {
    throw new SafetensorsError(
      `metadata ${where}: module ${typeof module === 'string' ? quote(module) : describe(module)} is not one ` +
        `@recurrent/nn has (${NAMES.join(', ')})`,
    );
  }
  if (!isObject(options)) {
    throw new SafetensorsError(`metadata ${where}: options must be an object, received ${describe(options)}`);
  }
  // the constructors check each option's value; here only the shape of the record is known
  return { module, options } as unknown as SafetensorsModuleEntry;
}

/**
 * The options recorded for the submodule at `prefix`, which must be a `module`:
 * `new LSTM(moduleOptions(modules, 'rnn', 'LSTM'))`.
 *
 * @throws SafetensorsError when nothing is recorded at `prefix` or a different module is.
 */
export function moduleOptions<K extends SafetensorsModuleName>(
  modules: SafetensorsModules,
  prefix: string,
  module: K,
): SafetensorsModuleOptions[K] {
  const found = Object.hasOwn(modules, prefix) ? modules[prefix] : undefined;
  if (found === undefined) {
    const known = Object.keys(modules).map((k) => quote(k));
    throw new SafetensorsError(
      `the metadata records no module at ${quote(prefix)} (it records ${known.length ? known.join(', ') : 'none'})`,
    );
  }
  if (found.module !== module) {
    throw new SafetensorsError(`the module at ${quote(prefix)} is a ${found.module}, not a ${module}`);
  }
  return found.options as SafetensorsModuleOptions[K];
}
