import { Generator, type Tensor } from '@recurrent/tensor';
import type { Backend, RnnArgs } from '../backend/types.js';

/** `args` with every tensor copied to `backend`, and a fresh dropout generator of seed `seed + 1`. */
export function argsOn(backend: Backend, args: RnnArgs, seed: number): RnnArgs {
  const on = (t: Tensor) => backend.fromCpu(t);
  const maybe = (t: Tensor | null) => (t ? on(t) : null);
  return {
    ...args,
    input: on(args.input),
    h0: maybe(args.h0),
    c0: maybe(args.c0),
    layers: args.layers.map((dirs) =>
      dirs.map((w) => ({
        weightIh: on(w.weightIh),
        weightHh: on(w.weightHh),
        biasIh: maybe(w.biasIh),
        biasHh: maybe(w.biasHh),
        weightHr: maybe(w.weightHr),
      })),
    ),
    dropout: args.dropout ? { p: args.dropout.p, generator: new Generator(seed + 1) } : null,
  };
}
