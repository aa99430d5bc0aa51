import type { Nonlinearity } from './backend/types.js';

/** PyTorch's name for a recurrent cell (`torch.nn.RNNBase.mode`). */
export type RnnMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

/**
 * What a backend needs to know about a cell, shared by the modules and every backend: how many gate
 * blocks the weights stack (rows of `weight_ih`/`weight_hh` are `gates·hiddenSize`), in PyTorch's order,
 * whether the state has a cell part, and the LSTM projection.
 */
export interface CellSpec {
  readonly mode: RnnMode;
  /** 1 (Elman RNN), 3 (GRU) or 4 (LSTM). */
  readonly gates: 1 | 3 | 4;
  /** PyTorch's order of the gate blocks: LSTM `i, f, g, o`; GRU `r, z, n`; RNN `h`. */
  readonly gateOrder: readonly string[];
  /** LSTM: the state is `(h, c)`. */
  readonly hasCellState: boolean;
  /** `H`: features of the gates and of LSTM's `c`. */
  readonly hiddenSize: number;
  /** LSTM's `projSize`, 0 for none: `h = (o ⊙ tanh c)·W_hrᵀ` has `projSize` features. */
  readonly projSize: number;
  /** Features of `h`, of each direction's output and of `h0`/`hN`: `projSize || hiddenSize`. */
  readonly stateSize: number;
}

const GATE_ORDER = {
  RNN_TANH: ['h'],
  RNN_RELU: ['h'],
  LSTM: ['i', 'f', 'g', 'o'],
  GRU: ['r', 'z', 'n'],
} as const;

/** The `CellSpec` of a mode (projSize only for LSTM; 0 for none). */
export function cellSpec(mode: RnnMode, hiddenSize: number, projSize = 0): CellSpec {
  if (projSize !== 0 && mode !== 'LSTM') {
    throw new RangeError(`cellSpec: projSize is only supported by LSTM, received ${projSize} for ${mode}`);
  }
  const gateOrder = GATE_ORDER[mode];
  return Object.freeze({
    mode,
    gates: gateOrder.length as 1 | 3 | 4,
    gateOrder,
    hasCellState: mode === 'LSTM',
    hiddenSize,
    projSize,
    stateSize: projSize || hiddenSize,
  });
}

/** The Elman mode for a nonlinearity. */
export function rnnMode(nonlinearity: Nonlinearity): RnnMode {
  return nonlinearity === 'relu' ? 'RNN_RELU' : 'RNN_TANH';
}

/** The module a mode belongs to, for messages (`'LSTM'`, `'GRU'`, `'RNN'`). */
export function modeModule(mode: RnnMode): 'RNN' | 'LSTM' | 'GRU' {
  return mode === 'LSTM' || mode === 'GRU' ? mode : 'RNN';
}
