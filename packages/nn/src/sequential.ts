import type { Tensor } from '@recurrent/tensor';
import { Module } from './module.js';

/** A module whose `forward` maps one tensor to one tensor, as `Sequential` chains them. */
export type TensorModule = Module & { forward(input: Tensor): Tensor };

/**
 * Modules applied one after another, like `torch.nn.Sequential`: the children are named `'0'`, `'1'`, …,
 * so the state-dict keys are PyTorch's (`0.weight`, `2.bias`).
 *
 * @example
 * const mlp = new Sequential(new Linear({ inFeatures: 4, outFeatures: 8 }), new Dropout({ p: 0.1 }),
 *   new Linear({ inFeatures: 8, outFeatures: 2 }));
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.nn.Sequential.html | torch.nn.Sequential}
 */
export class Sequential extends Module {
  readonly #layers: TensorModule[] = [];

  constructor(...modules: TensorModule[]) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Adds `module` at the end, named by its position; returns this. */
  append(module: TensorModule): this {
    const name = String(this.#layers.length);
    if (module instanceof Module && typeof module.forward !== 'function') {
      throw new TypeError(`Sequential: module '${name}' (${module.constructor.name}) has no forward()`);
    }
    this.#layers.push(this.registerModule(name, module));
    return this;
  }

  /** The number of modules. */
  get length(): number {
    return this.#layers.length;
  }

  /** The module at `index` (negative counts from the end), or undefined. */
  at(index: number): TensorModule | undefined {
    return this.#layers.at(index);
  }

  /** Runs `input` through every module in order (the input itself when empty). */
  forward(input: Tensor): Tensor {
    let x = input;
    for (const m of this.#layers) x = m.forward(x);
    return x;
  }
}
