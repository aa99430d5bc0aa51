/** A tensor's dimensions, outermost first (PyTorch's `tensor.shape`). */
export type Shape = readonly number[];

/** `[2, 3]` → `"[2, 3]"`, the way errors quote shapes. */
export function formatShape(shape: Shape): string {
  if (!Array.isArray(shape)) return String(shape);
  // a hostile shape may have millions of dimensions: an error message shows the ends and the count
  if (shape.length > MAX_SHOWN_DIMS) {
    const head = shape.slice(0, 8).join(', ');
    const tail = shape.slice(-2).join(', ');
    return `[${head}, …, ${tail}] (${shape.length} dimensions)`;
  }
  return `[${shape.join(', ')}]`;
}

const MAX_SHOWN_DIMS = 16;

/** A value shortened for an error message (at most ~`max` characters). */
export function describeForError(value: unknown, max = 120): string {
  let text: string;
  if (typeof value === 'number') text = String(value);
  else if (typeof value === 'string') text = `'${value}'`;
  else if (value === undefined) text = 'undefined';
  else if (Array.isArray(value) && value.length > MAX_SHOWN_DIMS) return formatShape(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

/** Number of elements of a shape (1 for a scalar). */
export function numelOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-contiguous) strides, in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] as number;
  }
  return strides;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Throws unless every entry is a non-negative integer. */
export function checkShape(shape: Shape, what = 'shape'): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(
      `${what} must be an array of non-negative integers, received ${describeForError(shape)}`,
    );
  }
}

/**
 * Wraps a possibly negative dimension into `[0, ndim)`, as PyTorch does.
 * `ndim` is the rank the dimension indexes (for `unsqueeze` that is rank + 1).
 */
export function normalizeDim(dim: number, ndim: number, op = 'dim'): number {
  const lo = -Math.max(ndim, 1);
  const hi = Math.max(ndim, 1) - 1;
  if (!Number.isInteger(dim) || dim < lo || dim > hi) {
    throw new RangeError(
      `${op}: dimension out of range (expected to be in range of [${lo}, ${hi}], but got ${dim})`,
    );
  }
  return dim < 0 ? dim + Math.max(ndim, 1) : dim;
}

/**
 * NumPy/PyTorch broadcasting of two shapes; throws naming both shapes when they do not broadcast.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.broadcast_shapes.html | torch.broadcast_shapes}
 */
export function broadcastShapes(a: Shape, b: Shape, op = 'broadcast'): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} are not broadcastable ` +
          `(size ${da} vs ${db} at dimension ${i - n})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}
