import type { WasmMemory } from './api.js';

const PAGE = 65536;

/** The most a wasm32 memory can hold: 65536 pages of 64 KiB, 4 GiB. */
export const WASM32_MAX_BYTES: number = 65536 * PAGE;
/** Blocks are 64-byte aligned (a cache line) … */
const ALIGN = 64;
/** … and end at least 32 bytes before the next, so no kernel's full-vector read of a row end faults. */
const GUARD = 32;

/** A byte offset into the kernels' memory, as the kernels take pointers. Made by `Block.at`. */
export type Ptr = number & { readonly __ptr: true };

/** The null pointer: what a kernel reads as "none" (no bias, no projection, no cell state). */
export const NULL_PTR: Ptr = 0 as Ptr;

/** What an arena holds: live blocks and their bytes, the memory reserved, and allocations so far. */
export interface ArenaStats {
  /** Blocks allocated and not yet freed. */
  readonly blocks: number;
  /** Bytes of those blocks (alignment included). */
  readonly bytes: number;
  /** Bytes of the WebAssembly memory: only grows. */
  readonly capacity: number;
  /**
   * The byte offset just past the highest block in use: where the memory grows from when no free
   * range fits a new block (`base` when nothing is allocated).
   */
  readonly top: number;
  /** The most `bytes` has been since the arena was made or `resetPeak()` was last called. */
  readonly peakBytes: number;
  /** Blocks ever allocated (a counter for tests: prepared weights are not allocated twice). */
  readonly allocations: number;
}

/** `floats` float32s in the kernels' memory, from `Arena.alloc` or a `Scratch`; live until `free()`. */
export class Block {
  readonly arena: Arena;
  /** Byte offset of the first float. */
  readonly ptr: Ptr;
  readonly floats: number;
  /** Bytes reserved (aligned, guard included). */
  readonly bytes: number;
  #freed = false;

  constructor(arena: Arena, ptr: number, floats: number, bytes: number) {
    this.arena = arena;
    this.ptr = ptr as Ptr;
    this.floats = floats;
    this.bytes = bytes;
  }

  /** The pointer to float `i` of the block (i ≤ floats). */
  at(i = 0): Ptr {
    if (!(i >= 0 && i <= this.floats)) throw new RangeError(`Block.at: ${i} is outside [0, ${this.floats}]`);
    return (this.ptr + i * 4) as Ptr;
  }

  /** A view of the block, valid until the memory next grows (the next allocation). */
  get f32(): Float32Array {
    this.#check('f32');
    const at = this.ptr / 4;
    return this.arena.f32.subarray(at, at + this.floats);
  }

  /** The block's bytes as int32s (tables the kernels read as integers), valid like `f32`. */
  get i32(): Int32Array {
    this.#check('i32');
    return new Int32Array(this.arena.memory.buffer, this.ptr, this.floats);
  }

  /** Copies `src` into the block from float `at`. */
  write(src: ArrayLike<number>, at = 0): this {
    if (at + src.length > this.floats) {
      throw new RangeError(`Block.write: ${src.length} floats at ${at} overflow a block of ${this.floats}`);
    }
    this.f32.set(src, at);
    return this;
  }

  /** Fills floats [from, to) with `value`. */
  fill(value: number, from = 0, to: number = this.floats): this {
    this.f32.fill(value, from, to);
    return this;
  }

  /** A copy of floats [from, to) that no later kernel call overwrites. */
  read(from = 0, to: number = this.floats): Float32Array {
    return this.f32.slice(from, to);
  }

  /** Returns the block to its arena. Idempotent. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.arena.release(this);
  }

  get freed(): boolean {
    return this.#freed;
  }

  #check(what: string): void {
    if (this.#freed) throw new Error(`Block.${what}: the block was freed`);
  }
}

/** Blocks for one piece of work (a forward), freed together by `release()`. */
export class Scratch {
  readonly arena: Arena;
  readonly #blocks: Block[] = [];

  constructor(arena: Arena) {
    this.arena = arena;
  }

  alloc(floats: number): Block {
    const block = this.arena.alloc(floats);
    this.#blocks.push(block);
    return block;
  }

  /** A new block holding a copy of `src`. */
  put(src: ArrayLike<number>): Block {
    return this.alloc(src.length).write(src);
  }

  /** A new block of zeros. */
  zeros(floats: number): Block {
    return this.alloc(floats).fill(0);
  }

  /** Frees every block of this scratch. */
  release(): void {
    for (const b of this.#blocks.splice(0)) b.free();
  }
}

/**
 * The kernels' memory from `base` up, handed out as typed blocks: long-lived ones (prepared weights,
 * freed one by one) and per-call scratch (`scratch()`, freed together). First fit over a free list that
 * coalesces neighbours; the memory grows when nothing fits and never shrinks, so the most ever needed
 * stays reserved. Single-threaded: only the thread that owns the executor allocates.
 */
export class Arena {
  readonly memory: WasmMemory;
  readonly base: number;
  #top: number;
  /** Free ranges below `#top`, sorted by address, never adjacent (coalesced). */
  readonly #free: { at: number; bytes: number }[] = [];
  #view: Float32Array;
  #blocks = 0;
  #bytes = 0;
  #peak = 0;
  #allocations = 0;

  constructor(memory: WasmMemory, base: number) {
    this.memory = memory;
    this.base = base;
    this.#top = base;
    this.#view = new Float32Array(memory.buffer);
  }

  /** A float32 view of the whole memory, current after any growth. */
  get f32(): Float32Array {
    const buffer = this.memory.buffer;
    if (this.#view.buffer !== buffer || this.#view.length * 4 !== buffer.byteLength) {
      this.#view = new Float32Array(buffer);
    }
    return this.#view;
  }

  /** A long-lived block of `floats` float32s (contents unspecified), until its `free()`. */
  alloc(floats: number): Block {
    if (!(Number.isInteger(floats) && floats >= 0)) {
      throw new RangeError(`Arena.alloc: floats must be a non-negative integer, received ${floats}`);
    }
    const bytes = Math.ceil((floats * 4 + GUARD) / ALIGN) * ALIGN;
    const block = new Block(this, this.#take(bytes), floats, bytes);
    this.#blocks++;
    this.#bytes += bytes;
    this.#peak = Math.max(this.#peak, this.#bytes);
    this.#allocations++;
    return block;
  }

  /** A long-lived block holding a copy of `src`. */
  put(src: ArrayLike<number>): Block {
    return this.alloc(src.length).write(src);
  }

  /** A set of blocks freed together. */
  scratch(): Scratch {
    return new Scratch(this);
  }

  /** Runs `f` with a scratch, released when `f` returns or throws. */
  withScratch<R>(f: (scratch: Scratch) => R): R {
    const s = this.scratch();
    try {
      return f(s);
    } finally {
      s.release();
    }
  }

  stats(): ArenaStats {
    return {
      blocks: this.#blocks,
      bytes: this.#bytes,
      capacity: this.memory.buffer.byteLength,
      top: this.#top,
      peakBytes: this.#peak,
      allocations: this.#allocations,
    };
  }

  /** Starts `peakBytes` over from the bytes in use now. */
  resetPeak(): void {
    this.#peak = this.#bytes;
  }

  /** Called by `Block.free()`. */
  release(block: Block): void {
    if (block.arena !== this) throw new Error('Arena.release: the block belongs to another arena');
    this.#blocks--;
    this.#bytes -= block.bytes;
    this.#give(block.ptr, block.bytes);
  }

  #take(bytes: number): number {
    const free = this.#free;
    for (let i = 0; i < free.length; i++) {
      const range = free[i] as { at: number; bytes: number };
      if (range.bytes < bytes) continue;
      const at = range.at;
      range.at += bytes;
      range.bytes -= bytes;
      if (range.bytes === 0) free.splice(i, 1);
      return at;
    }
    const at = this.#top;
    this.#top = at + bytes;
    const have = this.memory.buffer.byteLength;
    if (this.#top > have) {
      const pages = Math.ceil((this.#top - have) / PAGE);
      try {
        this.memory.grow(pages);
      } catch (e) {
        this.#top = at;
        throw new RangeError(
          `Arena: cannot grow the WebAssembly memory by ${pages} pages to ${this.#top + bytes} bytes ` +
            `(${e instanceof Error ? e.message : String(e)})`,
        );
      }
    }
    return at;
  }

  #give(at: number, bytes: number): void {
    const free = this.#free;
    let i = 0;
    while (i < free.length && (free[i] as { at: number }).at < at) i++;
    let start = at;
    let end = at + bytes;
    const before = free[i - 1];
    if (before && before.at + before.bytes === start) {
      start = before.at;
      free.splice(--i, 1);
    }
    const after = free[i];
    if (after && after.at === end) {
      end = after.at + after.bytes;
      free.splice(i, 1);
    }
    if (end === this.#top) this.#top = start;
    else free.splice(i, 0, { at: start, bytes: end - start });
  }
}
