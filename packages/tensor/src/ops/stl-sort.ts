/**
 * libstdc++'s `std::nth_element`, `std::sort` and `std::partial_sort` (GCC's introselect, introsort with
 * a 16-element insertion-sort cutoff, and heap select), step for step, on an array of positions ordered
 * by `less`. PyTorch's CPU `topk` runs these, so equal values come out in the same (unstable) order only
 * if we run the same algorithms.
 */
export type Less = (a: number, b: number) => boolean;

const THRESHOLD = 16;
const lg = (n: number): number => 31 - Math.clz32(n);

function swap(q: Int32Array, i: number, j: number): void {
  const t = q[i] as number;
  q[i] = q[j] as number;
  q[j] = t;
}

function moveMedianToFirst(q: Int32Array, result: number, a: number, b: number, c: number, less: Less): void {
  const [va, vb, vc] = [q[a] as number, q[b] as number, q[c] as number];
  if (less(va, vb)) {
    if (less(vb, vc)) swap(q, result, b);
    else if (less(va, vc)) swap(q, result, c);
    else swap(q, result, a);
  } else if (less(va, vc)) swap(q, result, a);
  else if (less(vb, vc)) swap(q, result, c);
  else swap(q, result, b);
}

function partitionPivot(q: Int32Array, first: number, last: number, less: Less): number {
  const mid = first + ((last - first) >> 1);
  moveMedianToFirst(q, first, first + 1, mid, last - 1, less);
  const pivot = q[first] as number;
  let lo = first + 1;
  let hi = last;
  for (;;) {
    while (less(q[lo] as number, pivot)) lo++;
    hi--;
    while (less(pivot, q[hi] as number)) hi--;
    if (!(lo < hi)) return lo;
    swap(q, lo, hi);
    lo++;
  }
}

function linearInsert(q: Int32Array, last: number, less: Less): void {
  const val = q[last] as number;
  let next = last - 1;
  while (less(val, q[next] as number)) {
    q[last] = q[next] as number;
    last = next;
    next--;
  }
  q[last] = val;
}

function insertionSort(q: Int32Array, first: number, last: number, less: Less): void {
  if (first === last) return;
  for (let i = first + 1; i < last; i++) {
    const val = q[i] as number;
    if (less(val, q[first] as number)) {
      q.copyWithin(first + 1, first, i);
      q[first] = val;
    } else linearInsert(q, i, less);
  }
}

function adjustHeap(
  q: Int32Array,
  first: number,
  hole: number,
  len: number,
  value: number,
  less: Less,
): void {
  const top = hole;
  let child = hole;
  while (child < (len - 1) >> 1) {
    child = 2 * (child + 1);
    if (less(q[first + child] as number, q[first + child - 1] as number)) child--;
    q[first + hole] = q[first + child] as number;
    hole = child;
  }
  if ((len & 1) === 0 && child === (len - 2) >> 1) {
    child = 2 * (child + 1);
    q[first + hole] = q[first + child - 1] as number;
    hole = child - 1;
  }
  let parent = (hole - 1) >> 1;
  while (hole > top && less(q[first + parent] as number, value)) {
    q[first + hole] = q[first + parent] as number;
    hole = parent;
    parent = (hole - 1) >> 1;
  }
  q[first + hole] = value;
}

function popHeap(q: Int32Array, first: number, last: number, result: number, less: Less): void {
  const value = q[result] as number;
  q[result] = q[first] as number;
  adjustHeap(q, first, 0, last - first, value, less);
}

function heapSelect(q: Int32Array, first: number, middle: number, last: number, less: Less): void {
  const len = middle - first;
  if (len >= 2) {
    for (let parent = (len - 2) >> 1; parent >= 0; parent--) {
      adjustHeap(q, first, parent, len, q[first + parent] as number, less);
    }
  }
  for (let i = middle; i < last; i++)
    if (less(q[i] as number, q[first] as number)) popHeap(q, first, middle, i, less);
}

function sortHeap(q: Int32Array, first: number, last: number, less: Less): void {
  while (last - first > 1) {
    last--;
    popHeap(q, first, last, last, less);
  }
}

/** `std::partial_sort(first, middle, last)`. */
export function partialSort(q: Int32Array, first: number, middle: number, last: number, less: Less): void {
  heapSelect(q, first, middle, last, less);
  sortHeap(q, first, middle, less);
}

function introsortLoop(q: Int32Array, first: number, last: number, depth: number, less: Less): void {
  while (last - first > THRESHOLD) {
    if (depth === 0) {
      partialSort(q, first, last, last, less);
      return;
    }
    depth--;
    const cut = partitionPivot(q, first, last, less);
    introsortLoop(q, cut, last, depth, less);
    last = cut;
  }
}

/** `std::sort(first, last)`. */
export function stlSort(q: Int32Array, first: number, last: number, less: Less): void {
  if (first === last) return;
  introsortLoop(q, first, last, lg(last - first) * 2, less);
  if (last - first > THRESHOLD) {
    insertionSort(q, first, first + THRESHOLD, less);
    for (let i = first + THRESHOLD; i < last; i++) linearInsert(q, i, less);
  } else insertionSort(q, first, last, less);
}

/** `std::nth_element(first, nth, last)`. */
export function nthElement(q: Int32Array, first: number, nth: number, last: number, less: Less): void {
  if (first === last || nth === last) return;
  let depth = lg(last - first) * 2;
  while (last - first > 3) {
    if (depth === 0) {
      heapSelect(q, first, nth + 1, last, less);
      swap(q, first, nth);
      return;
    }
    depth--;
    const cut = partitionPivot(q, first, last, less);
    if (cut <= nth) first = cut;
    else last = cut;
  }
  insertionSort(q, first, last, less);
}
