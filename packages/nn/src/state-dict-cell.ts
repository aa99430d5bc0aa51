import { formatShape, Tensor } from '@recurrent/tensor';
import type { CellSpec } from './cell.js';

const KIND: Record<number, string> = { 1: 'an RNN', 3: 'a GRU', 4: 'an LSTM' };
const MODULE: Record<number, string> = { 1: 'RNN', 3: 'GRU', 4: 'LSTM' };

/**
 * When a state dict was saved from another kind of cell than the module's, a sentence that says which
 * cell its keys look like (from `weight_hh`'s rows: gates·hiddenSize, and `weight_hr`'s presence), so a
 * user who loads an LSTM checkpoint into a GRU is told so instead of only seeing size mismatches.
 * Null when the dict looks like the module's own kind (or cannot be told).
 *
 * @param suffix `'_l0'` for the multi-layer modules, `''` for the cells.
 */
export function describeStateDictCell(
  dict: ReadonlyMap<string, unknown>,
  cell: CellSpec,
  owner: string,
  suffix = '_l0',
): string | null {
  const hh = dict.get(`weight_hh${suffix}`);
  if (!(hh instanceof Tensor) || hh.ndim !== 2) return null;
  const hr = dict.get(`weight_hr${suffix}`);
  const projected = hr instanceof Tensor && hr.ndim === 2;
  const [rows, cols] = hh.shape as [number, number];
  const H = projected ? (hr.shape[1] as number) : cols;
  if (H === 0 || rows % H !== 0) return null;
  const gates = rows / H;
  const kind = KIND[gates];
  if (!kind) return null;
  const key = `weight_hh${suffix}`;
  const cellName = suffix ? '' : 'Cell';
  if (gates === cell.gates && projected === cell.projSize > 0) return null;
  if (gates === cell.gates) {
    return projected
      ? `The keys look like an LSTM${cellName} with projSize ${hr.shape[0]} (they have weight_hr${suffix}): ` +
          `construct it with { projSize: ${hr.shape[0]} }.`
      : `The keys look like an LSTM without projection (no weight_hr${suffix}), but this ${owner} has projSize ${cell.projSize}.`;
  }
  return (
    `The keys look like ${kind}${cellName} state dict (${key} has shape ${formatShape(hh.shape)}: ` +
    `${gates === 1 ? '' : `${gates}·`}hiddenSize rows for hiddenSize ${H}), not ${KIND[cell.gates]}${cellName}'s ` +
    `(${cell.gates === 1 ? '' : `${cell.gates}·`}hiddenSize rows): load it into ${MODULE[gates]}${cellName}.`
  );
}
