import type { CellSpec } from './cell.js';

/** Default `maxBytes` of the recurrent modules: 2 GiB of parameters, and of activations per forward. */
export const DEFAULT_MAX_BYTES: number = 2 ** 31;
/** The longest Float32Array V8 and the other engines allocate. */
const MAX_TYPED_ARRAY_LENGTH = 2 ** 32;

/** `bytes` for people: `1.50 GiB (1,610,612,736 bytes)`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const exact = Number.isSafeInteger(bytes) ? ` (${bytes.toLocaleString('en-US')} bytes)` : '';
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(2)} ${units[unit]}${exact}`;
}

/** Checks `maxBytes` (a positive number, Infinity allowed); returns it or the default. */
export function checkMaxBytes(owner: string, value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_BYTES;
  if (typeof value !== 'number' || !(value > 0)) {
    throw new RangeError(`${owner}: maxBytes must be a positive number of bytes, received ${String(value)}`);
  }
  return value;
}

/** One allocation the module is about to make: a name for messages and its float32 count. */
export interface Allocation {
  readonly name: string;
  readonly floats: number;
}

/**
 * Refuses, before anything is allocated, what cannot be: a single tensor longer than a typed array can
 * be, or a total over `maxBytes`. `what` names the allocations and the options they come from.
 */
export function checkAllocations(
  owner: string,
  what: string,
  allocations: readonly Allocation[],
  maxBytes: number,
): void {
  const largest = allocations.reduce((a, b) => (b.floats > a.floats ? b : a), { name: '', floats: 0 });
  const total = allocations.reduce((sum, a) => sum + 4 * a.floats, 0);
  if (largest.floats > MAX_TYPED_ARRAY_LENGTH) {
    throw new RangeError(
      `${owner}: ${what} need ${largest.name} of ${largest.floats.toLocaleString('en-US')} floats ` +
        `(${formatBytes(4 * largest.floats)}), more than a Float32Array can hold (${MAX_TYPED_ARRAY_LENGTH.toLocaleString('en-US')})`,
    );
  }
  if (total > maxBytes) {
    throw new RangeError(
      `${owner}: ${what} need ${formatBytes(total)}, over maxBytes (${formatBytes(maxBytes)}); ` +
        'pass a larger maxBytes to allow it',
    );
  }
}

/** The parameters of a recurrent module, per layer and direction, or of a cell (PyTorch's names and shapes). */
export function parameterAllocations(
  cell: CellSpec,
  inputSize: number,
  numLayers: number,
  directions: number,
  bias: boolean,
  names: 'layers' | 'cell' = 'layers',
): Allocation[] {
  const { gates: G, hiddenSize: H, stateSize: P, projSize } = cell;
  const out: Allocation[] = [];
  for (let layer = 0; layer < numLayers; layer++) {
    const input = layer === 0 ? inputSize : directions * P;
    for (let d = 0; d < directions; d++) {
      const s = names === 'cell' ? '' : `_l${layer}${d ? '_reverse' : ''}`;
      out.push(
        { name: `weight_ih${s}`, floats: G * H * input },
        { name: `weight_hh${s}`, floats: G * H * P },
      );
      if (bias) out.push({ name: `bias_ih${s}`, floats: G * H }, { name: `bias_hh${s}`, floats: G * H });
      if (projSize > 0) out.push({ name: `weight_hr${s}`, floats: projSize * H });
    }
  }
  return out;
}

/** What one forward allocates: each layer's output, the gate pre-activations and the states. */
export function activationAllocations(
  cell: CellSpec,
  T: number,
  N: number,
  numLayers: number,
  directions: number,
): Allocation[] {
  const { gates: G, hiddenSize: H, stateSize: P } = cell;
  return [
    { name: 'the output', floats: T * N * directions * P },
    { name: 'the previous layer output', floats: numLayers > 1 ? T * N * directions * P : 0 },
    { name: 'the gate pre-activations', floats: T * N * G * H },
    { name: 'the states', floats: numLayers * directions * N * (P + (cell.hasCellState ? H : 0)) },
  ];
}
