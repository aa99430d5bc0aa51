import { describeForError } from '@recurrent/tensor';
import type { Nonlinearity } from './backend/types.js';

/** Throws unless `value` is an integer ≥ `min`. */
export function checkInteger(owner: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`${owner}: ${name} must be an integer >= ${min}, received ${describe(value)}`);
  }
  return value;
}

export function checkBoolean(owner: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new TypeError(`${owner}: ${name} must be a boolean, received ${describe(value)}`);
  return value;
}

export function checkNonlinearity(owner: string, value: unknown): Nonlinearity {
  if (value === undefined) return 'tanh';
  if (value !== 'tanh' && value !== 'relu') {
    throw new RangeError(`${owner}: nonlinearity must be 'tanh' or 'relu', received ${describe(value)}`);
  }
  return value;
}

export function checkProbability(owner: string, name: string, value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new RangeError(`${owner}: ${name} must be a number in [0, 1], received ${describe(value)}`);
  }
  return value;
}

/** Rejects option names the module does not know, suggesting the camelCase one for PyTorch's snake_case. */
export function checkKnownOptions(owner: string, options: object, known: readonly string[]): void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${owner}: expected an options object, received ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const hint = known.includes(camel) ? ` (did you mean '${camel}'?)` : '';
    throw new TypeError(`${owner}: unknown option '${key}'${hint}; expected one of ${known.join(', ')}`);
  }
}

function describe(value: unknown): string {
  return describeForError(value);
}
