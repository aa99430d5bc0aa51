const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2'];

/** Plots each series (one value per time step) as a line, with a zero axis; returns the colors used. */
export function drawLines(canvas: HTMLCanvasElement, series: Float32Array[]): string[] {
  const ctx = canvas.getContext('2d');
  if (!ctx) return [];
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const all = series.flatMap((s) => Array.from(s).filter(Number.isFinite));
  const lo = Math.min(-1, ...all);
  const hi = Math.max(1, ...all);
  const y = (v: number): number => height - 8 - ((v - lo) / (hi - lo)) * (height - 16);
  ctx.strokeStyle = '#9ca3af';
  ctx.beginPath();
  ctx.moveTo(0, y(0));
  ctx.lineTo(width, y(0));
  ctx.stroke();
  return series.map((s, k) => {
    const stroke = PALETTE[k % PALETTE.length] as string;
    ctx.strokeStyle = stroke;
    ctx.lineWidth = 2;
    ctx.beginPath();
    const step = s.length > 1 ? width / (s.length - 1) : 0;
    for (const [t, v] of s.entries()) {
      if (t === 0) ctx.moveTo(0, y(v));
      else ctx.lineTo(t * step, y(v));
    }
    ctx.stroke();
    return stroke;
  });
}
