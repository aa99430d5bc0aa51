import type { RNNOptions } from '@recurrent/nn';

/** What the configurator runs: every `nn.RNN` option plus the input's batch, length and the seed. */
export interface RunConfig {
  options: RNNOptions;
  batch: number;
  seqLen: number;
  seed: number;
}

type Field =
  | { id: string; label: string; kind: 'int' | 'number'; value: number; step?: number }
  | { id: string; label: string; kind: 'bool'; value: boolean }
  | { id: string; label: string; kind: 'select'; value: string; options: string[] };

const FIELDS: Field[] = [
  { id: 'inputSize', label: 'inputSize', kind: 'int', value: 4 },
  { id: 'hiddenSize', label: 'hiddenSize', kind: 'int', value: 12 },
  { id: 'numLayers', label: 'numLayers', kind: 'int', value: 2 },
  { id: 'nonlinearity', label: 'nonlinearity', kind: 'select', value: 'tanh', options: ['tanh', 'relu'] },
  { id: 'bias', label: 'bias', kind: 'bool', value: true },
  { id: 'batchFirst', label: 'batchFirst', kind: 'bool', value: true },
  { id: 'dropout', label: 'dropout (training only)', kind: 'number', value: 0, step: 0.1 },
  { id: 'bidirectional', label: 'bidirectional', kind: 'bool', value: false },
  { id: 'batch', label: 'batch size N', kind: 'int', value: 2 },
  { id: 'seqLen', label: 'sequence length L', kind: 'int', value: 32 },
  { id: 'seed', label: 'seed', kind: 'int', value: 0 },
];

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
  return {
    options: {
      inputSize: num('inputSize'),
      hiddenSize: num('hiddenSize'),
      numLayers: num('numLayers'),
      nonlinearity: value('nonlinearity').value as 'tanh' | 'relu',
      bias: bool('bias'),
      batchFirst: bool('batchFirst'),
      dropout: num('dropout'),
      bidirectional: bool('bidirectional'),
    },
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

/** Maps an `RNN` constructor error (`RNN: hiddenSize must be …`) to its field. */
export function fieldOfError(message: string): string | null {
  const match = /^RNN: (\w+) must/.exec(message);
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

/** Sets the form's RNN fields from options (e.g. a checkpoint's recorded `rnn_options`). */
export function writeOptions(form: HTMLFormElement, options: Partial<RNNOptions>): void {
  for (const [key, value] of Object.entries(options)) {
    const input = form.querySelector<HTMLInputElement | HTMLSelectElement>(`#cfg-${key}`);
    if (!input) continue;
    if (input instanceof HTMLInputElement && input.type === 'checkbox') input.checked = Boolean(value);
    else input.value = String(value);
  }
}
