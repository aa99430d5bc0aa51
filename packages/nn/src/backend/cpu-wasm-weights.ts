import {
  type Block,
  type PackLayout,
  packedFloats,
  packTransposedJob,
  type WasmExecutor,
} from '@recurrent/kernels-wasm';
import { cpuData, type Tensor } from '@recurrent/tensor';

/** Where a parameter sits: its PyTorch name is `${name}_l${layer}` plus `_reverse`. */
export interface ParameterKey {
  readonly layer: number;
  readonly reverse: boolean;
}

function parameterName(name: string, { layer, reverse }: ParameterKey): string {
  return `${name}_l${layer}${reverse ? '_reverse' : ''}`;
}

/** The forms of one tensor in the kernels' memory: packed transposed (by layout) or as is. */
type Forms = Map<PackLayout | 'raw', Block>;

/**
 * Parameters resident in the kernels' memory, prepared once per parameter tensor and reused by every
 * forward (and every chunk of a stream). A module keeps a parameter's tensor object until the parameter
 * is replaced (`loadStateDict` registers new tensors), so the object's identity is its version: the
 * cache is keyed by it, and its blocks are freed when the tensor is collected or the backend disposed.
 * Parameters are not to be mutated in place (`stateDict()` says so); a mutated one keeps its old form.
 */
export class PreparedWeights {
  readonly #executor: WasmExecutor;
  #cache = new WeakMap<Tensor, Forms>();
  /** Every live forms map (they hold blocks, never tensors), to free on `clear()`. */
  readonly #live = new Set<Forms>();
  readonly #registry = new FinalizationRegistry<Forms>((forms) => this.#free(forms));

  constructor(executor: WasmExecutor) {
    this.#executor = executor;
  }

  /**
   * Wᵀ of a `(rows, cols)` weight W, packed in `layout`: the B operand of `x·Wᵀ` (K = cols, N = rows).
   * `name` and `key` name the parameter in the error for a tensor that is not on the CPU.
   */
  transposed(w: Tensor, layout: PackLayout, name: string, key: ParameterKey): Block {
    const forms = this.#forms(w);
    let block = forms.get(layout);
    if (!block) {
      const [rows, cols] = w.shape as [number, number];
      const data = cpuData(w, parameterName(name, key));
      const ex = this.#executor;
      const packed = ex.arena.alloc(packedFloats(layout, cols, rows));
      ex.arena.withScratch((s) =>
        ex.run([packTransposedJob(layout, s.put(data).at(), rows, cols, packed.at())]),
      );
      block = packed;
      forms.set(layout, block);
    }
    return block;
  }

  /** A tensor's floats as they are (a bias). */
  raw(t: Tensor, name: string, key: ParameterKey): Block {
    const forms = this.#forms(t);
    let block = forms.get('raw');
    if (!block) {
      block = this.#executor.arena.put(cpuData(t, parameterName(name, key)));
      forms.set('raw', block);
    }
    return block;
  }

  /**
   * Bytes `transposed(w, layout)` would add (0 once prepared): what a forward needs beyond the memory in
   * use before it runs.
   */
  pendingBytes(w: Tensor, layout: PackLayout | 'raw'): number {
    if (this.#cache.get(w)?.has(layout)) return 0;
    const [rows, cols] = w.shape as [number, number];
    const floats = layout === 'raw' ? w.numel() : packedFloats(layout, cols, rows);
    return Math.ceil((floats * 4 + 32) / 64) * 64;
  }

  /** Frees every prepared block. */
  clear(): void {
    for (const forms of this.#live) {
      this.#registry.unregister(forms);
      this.#free(forms);
    }
    this.#cache = new WeakMap();
  }

  #forms(t: Tensor): Forms {
    let forms = this.#cache.get(t);
    if (!forms) {
      forms = new Map();
      this.#cache.set(t, forms);
      this.#live.add(forms);
      this.#registry.register(t, forms, forms);
    }
    return forms;
  }

  #free(forms: Forms): void {
    for (const block of forms.values()) block.free();
    forms.clear();
    this.#live.delete(forms);
  }
}
