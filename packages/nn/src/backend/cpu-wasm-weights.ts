import {
  type Block,
  type PackLayout,
  packedFloats,
  packJob,
  packTransposedJob,
  type WasmExecutor,
} from '@recurrent/kernels-wasm';
import { cpuData, type Tensor } from '@recurrent/tensor';

/** Where a parameter sits: its PyTorch name is `${name}_l${layer}` plus `_reverse`. */
export interface ParameterKey {
  readonly layer: number;
  readonly reverse: boolean;
}

/** A recurrent parameter's name (`weight_ih_l0_reverse`), or `name` itself without a key (Linear's `weight`). */
function parameterName(name: string, key?: ParameterKey): string {
  return key ? `${name}_l${key.layer}${key.reverse ? '_reverse' : ''}` : name;
}

/** The forms of one tensor in the kernels' memory: packed transposed (by layout), packed as is, or raw. */
type Forms = Map<PackLayout | 'plain' | 'raw', Block>;

/**
 * Parameters resident in the kernels' memory, prepared once per parameter version and reused by every
 * forward (and every chunk of a stream). A module keeps a parameter's tensor object until the parameter
 * is replaced (`loadStateDict` registers new tensors), and an optimizer writes it in place with `copy_`,
 * which bumps `tensor.version`: the cache is keyed by the object and remembers the version it packed, so
 * the first call after a step packs again. Blocks are freed when the tensor is collected or the backend
 * disposed. (A write that bypasses `copy_`, through `dataSync()`, is not seen.)
 */
export class PreparedWeights {
  readonly #executor: WasmExecutor;
  #cache = new WeakMap<Tensor, Forms>();
  /** The version of each tensor its forms were made from. */
  #versions = new WeakMap<Tensor, number>();
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
  transposed(w: Tensor, layout: PackLayout, name: string, key?: ParameterKey): Block {
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

  /**
   * W itself (`(rows, cols)`), packed in layout `'blocks'`: the B operand of `g·W` (K = rows, N = cols),
   * as a backward needs it (`dh = dgates·W_hh`, `dx = dgates·W_ih`).
   */
  plain(w: Tensor, name: string, key?: ParameterKey): Block {
    const forms = this.#forms(w);
    let block = forms.get('plain');
    if (!block) {
      const [rows, cols] = w.shape as [number, number];
      const data = cpuData(w, parameterName(name, key));
      const ex = this.#executor;
      const packed = ex.arena.alloc(packedFloats('blocks', rows, cols));
      ex.arena.withScratch((s) =>
        ex.run([
          packJob({
            layout: 'blocks',
            K: rows,
            N: cols,
            b: s.put(data).at(),
            sbp: cols,
            sbj: 1,
            dst: packed.at(),
          }),
        ]),
      );
      block = packed;
      forms.set('plain', block);
    }
    return block;
  }

  /** A tensor's floats as they are (a bias). */
  raw(t: Tensor, name: string, key?: ParameterKey): Block {
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
  pendingBytes(w: Tensor, layout: PackLayout | 'plain' | 'raw'): number {
    if (this.#cache.get(w)?.has(layout) && this.#versions.get(w) === w.version) return 0;
    const [rows, cols] = w.shape as [number, number];
    const floats =
      layout === 'raw'
        ? w.numel()
        : layout === 'plain'
          ? packedFloats('blocks', rows, cols)
          : packedFloats(layout, cols, rows);
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
    if (forms && this.#versions.get(t) !== t.version) {
      // written in place since (an optimizer step): its forms are stale
      for (const block of forms.values()) block.free();
      forms.clear();
    }
    this.#versions.set(t, t.version);
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
