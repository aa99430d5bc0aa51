/** Median, min and max of a non-empty sample. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { median, min: s[0] as number, max: s[s.length - 1] as number, n: s.length };
}

/** The largest |got − want| and whether all are within `atol + rtol·|want|` (NaN counts as a mismatch). */
export function compare(
  got: Float32Array,
  want: Float32Array,
  atol = 1e-4,
  rtol = 1e-3,
): { ok: boolean; maxAbs: number } {
  if (got.length !== want.length) return { ok: false, maxAbs: Number.POSITIVE_INFINITY };
  let ok = true;
  let maxAbs = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i] as number;
    const w = want[i] as number;
    const d = Math.abs(g - w);
    if (!(d <= atol + rtol * Math.abs(w))) ok = false;
    if (!(d <= maxAbs)) maxAbs = d;
  }
  return { ok, maxAbs };
}
