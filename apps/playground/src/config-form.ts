import type { GRUOptions, LSTMOptions, RNNOptions } from '@recurrent/nn';

/** The module the configurator builds. */
export type CellModule = 'RNN' | 'LSTM' | 'GRU';

/** The options of any of the three modules (`nonlinearity` for RNN, `projSize` for LSTM). */
export type AnyOptions = RNNOptions | LSTMOptions | GRUOptions;

/**
 * What the configurator runs: the module (`nn.RNN`, `nn.LSTM` or `nn.GRU`) with every option, plus the
 * input's batch, length and the seed.
 */
export interface RunConfig {
  module: CellModule;
  options: AnyOptions;
  batch: number;
  seqLen: number;
  seed: number;
}

type Field =
  | { id: string; label: string; kind: 'int' | 'number'; value: number; step?: number }
  | { id: string; label: string; kind: 'bool'; value: boolean }
  | { id: string; label: string; kind: 'select'; value: string; options: string[] };

const FIELDS: Field[] = [
  { id: 'module', label: 'module', kind: 'select', value: 'RNN', options: ['RNN', 'LSTM', 'GRU'] },
  { id: 'inputSize', label: 'inputSize', kind: 'int', value: 4 },
  { id: 'hiddenSize', label: 'hiddenSize', kind: 'int', value: 12 },
  { id: 'numLayers', label: 'numLayers', kind: 'int', value: 2 },
  { id: 'nonlinearity', label: 'nonlinearity', kind: 'select', value: 'tanh', options: ['tanh', 'relu'] },
  { id: 'bias', label: 'bias', kind: 'bool', value: true },
  { id: 'batchFirst', label: 'batchFirst', kind: 'bool', value: true },
  { id: 'dropout', label: 'dropout (training only)', kind: 'number', value: 0, step: 0.1 },
  { id: 'bidirectional', label: 'bidirectional', kind: 'bool', value: false },
  { id: 'projSize', label: 'projSize (LSTM)', kind: 'int', value: 0 },
  { id: 'batch', label: 'batch size N', kind: 'int', value: 2 },
  { id: 'seqLen', label: 'sequence length L', kind: 'int', value: 32 },
  { id: 'seed', label: 'seed', kind: 'int', value: 0 },
];

/** Fields only some modules have, and which. */
const ONLY: Record<string, CellModule> = { nonlinearity: 'RNN', projSize: 'LSTM' };

/** Disables the fields the chosen module does not have (`nonlinearity` but for RNN, `projSize` but for LSTM). */
export function syncFields(form: HTMLFormElement): void {
  const module = (form.querySelector('#cfg-module') as HTMLSelectElement).value;
  for (const [id, owner] of Object.entries(ONLY)) {
    const input = form.querySelector(`#cfg-${id}`) as HTMLInputElement | HTMLSelectElement;
    input.disabled = module !== owner;
  }
}

/** Builds the form's fields, each with a slot for its own error message. */
export function renderForm(form: HTMLFormElement): void {
  form.replaceChildren(
    ...FIELDS.map((f) => {
      const label = document.createElement('label');
      label.append(f.label);
      let input: HTMLInputElement | HTMLSelectElement;
      if (f.kind === 'select') {
        input = document.createElement('select');
        for (const o of f.options) input.append(new Option(o, o, o === f.value, o === f.value));
      } else {
        input = document.createElement('input');
        input.type = f.kind === 'bool' ? 'checkbox' : 'number';
        if (f.kind === 'bool') input.checked = f.value;
        else {
          input.value = String(f.value);
          input.step = String(f.kind === 'int' ? 1 : (f.step ?? 'any'));
        }
      }
      input.id = `cfg-${f.id}`;
      const error = document.createElement('span');
      error.className = 'field-error';
      error.dataset.errorFor = f.id;
      label.append(input, error);
      return label;
    }),
  );
  syncFields(form);
}

/** Reads the form; numbers come back as typed (validation is the RNN's and `checkRunFields`'s job). */
export function readForm(form: HTMLFormElement): RunConfig {
  const value = (id: string): HTMLInputElement | HTMLSelectElement =>
    form.querySelector(`#cfg-${id}`) as HTMLInputElement | HTMLSelectElement;
  const num = (id: string): number => {
    const raw = value(id).value.trim();
    return raw === '' ? Number.NaN : Number(raw);
  };
  const bool = (id: string): boolean => (value(id) as HTMLInputElement).checked;
  const module = value('module').value as CellModule;
  const common = {
    inputSize: num('inputSize'),
    hiddenSize: num('hiddenSize'),
    numLayers: num('numLayers'),
    bias: bool('bias'),
    batchFirst: bool('batchFirst'),
    dropout: num('dropout'),
    bidirectional: bool('bidirectional'),
  };
  const options: AnyOptions =
    module === 'RNN'
      ? { ...common, nonlinearity: value('nonlinearity').value as 'tanh' | 'relu' }
      : module === 'LSTM'
        ? { ...common, projSize: num('projSize') }
        : common;
  return {
    module,
    options,
    batch: num('batch'),
    seqLen: num('seqLen'),
    seed: num('seed'),
  };
}

/** Errors of the fields the RNN does not check itself, by field id. */
export function checkRunFields(config: RunConfig): Record<string, string> {
  const errors: Record<string, string> = {};
  const limits: [keyof RunConfig, number, number][] = [
    ['batch', 1, 256],
    ['seqLen', 1, 4096],
    ['seed', 0, 2 ** 32 - 1],
  ];
  for (const [key, min, max] of limits) {
    const v = config[key] as number;
    if (!Number.isInteger(v) || v < min || v > max) {
      errors[key] = `must be an integer in [${min}, ${max}], received ${Number.isNaN(v) ? 'nothing' : v}`;
    }
  }
  return errors;
}

/** Maps a constructor error (`LSTM: hiddenSize must be …`) to its field. */
export function fieldOfError(message: string): string | null {
  const match = /^(?:RNN|LSTM|GRU): (\w+) must/.exec(message);
  return match?.[1] ?? null;
}

/** Shows `errors` next to their fields and clears the others. */
export function showFieldErrors(root: ParentNode, errors: Record<string, string>): void {
  for (const slot of root.querySelectorAll<HTMLElement>('[data-error-for]')) {
    const id = slot.dataset.errorFor ?? '';
    slot.textContent = errors[id] ?? '';
    root.querySelector(`#cfg-${id}, #${id}`)?.classList.toggle('invalid', id in errors);
  }
}

/** Sets the form's fields from options (e.g. a checkpoint's recorded `module` and `rnn_options`). */
export function writeOptions(
  form: HTMLFormElement,
  options: Partial<RNNOptions & LSTMOptions> & { module?: CellModule },
): void {
  for (const [key, value] of Object.entries(options)) {
    const input = form.querySelector<HTMLInputElement | HTMLSelectElement>(`#cfg-${key}`);
    if (!input) continue;
    if (input instanceof HTMLInputElement && input.type === 'checkbox') input.checked = Boolean(value);
    else input.value = String(value);
  }
  syncFields(form);
}
