/** What a pool holds at most by default: 1 MiB of arrays waiting to be handed out again. */
const DEFAULT_MAX_BYTES = 2 ** 20;

/**
 * Result arrays (hN, cN) that a backend hands out again once they come back through `Backend.recycle`
 * (an `RNNStream`'s released states), so that a forward writes over them instead of allocating: V8 takes
 * microseconds to allocate a typed array too big for its heap (over 64 bytes), as long as a small
 * model's whole step.
 *
 * Only arrays this pool made are taken back, each once until it is handed out again, so a caller cannot
 * slip in a view of other memory, and no array is handed out twice at a time.
 */
export class ResultPool {
  readonly maxBytes: number;
  /** The arrays made here that are out (not waiting in `#free`). */
  readonly #out = new WeakSet<Float32Array>();
  readonly #free = new Map<number, Float32Array[]>();
  #bytes = 0;

  constructor(maxBytes: number = DEFAULT_MAX_BYTES) {
    this.maxBytes = maxBytes;
  }

  /** An array of `length` floats: one given back, with stale values, or a new one of zeros. */
  take(length: number): Float32Array {
    const given = this.#free.get(length)?.pop();
    if (given) this.#bytes -= given.byteLength;
    const array = given ?? new Float32Array(length);
    this.#out.add(array);
    return array;
  }

  /**
   * Takes `array` back if this pool handed it out and it is still out, and the pool has room; the
   * caller must not read or write it again. Returns whether it was taken.
   */
  give(array: Float32Array): boolean {
    if (!this.#out.has(array) || this.#bytes + array.byteLength > this.maxBytes) return false;
    this.#out.delete(array);
    const list = this.#free.get(array.length);
    if (list) list.push(array);
    else this.#free.set(array.length, [array]);
    this.#bytes += array.byteLength;
    return true;
  }

  /** Bytes of the arrays waiting to be handed out again. */
  get bytes(): number {
    return this.#bytes;
  }
}
