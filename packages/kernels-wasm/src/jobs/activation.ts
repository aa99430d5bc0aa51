import type { Ptr } from '../runtime/arena.js';
import type { Job } from '../runtime/executor.js';

/** An activation the kernels fuse into a GEMM's store or apply to rows. */
export type Activation = 'none' | 'tanh' | 'relu' | 'sigmoid';

/** The kernels' codes (assembly/activation.ts). */
export const ACTIVATION_CODES: Readonly<Record<Activation, number>> = Object.freeze({
  none: 0,
  tanh: 1,
  relu: 2,
  sigmoid: 3,
});

/** `activateRows`: act(x) in place over `rows` rows of `cols` floats, `ld` floats apart. */
export interface ActivateJobArgs {
  readonly c: Ptr;
  readonly rows: number;
  readonly cols: number;
  /** Floats from one row to the next; default `cols`. */
  readonly ld?: number;
  readonly act: Activation;
}

export function activateJob({ c, rows, cols, ld = cols, act }: ActivateJobArgs): Job {
  return { kernel: 'activateRows', args: [c, rows, cols, ld, ACTIVATION_CODES[act]] };
}
