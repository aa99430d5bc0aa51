/**
 * Plots a training loss over steps: each step's loss (light), its running mean over the last `window`
 * steps (bold), and a dashed line at `reference` (e.g. ln(vocab), the loss of a uniform guess), on a
 * y-axis from 0 to just above the largest value, with a few labelled ticks.
 * @param losses one value per step, step 1 first.
 * @param totalSteps the x-axis length (the run's planned steps), so the curve grows from left to right.
 */
export function drawLossCurve(
  canvas: HTMLCanvasElement,
  losses: readonly number[],
  totalSteps: number,
  reference: number,
  window = 20,
): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { width, height } = canvas;
  const left = 36;
  const pad = 8;
  ctx.clearRect(0, 0, width, height);
  let top = reference;
  for (const v of losses) if (Number.isFinite(v) && v > top) top = v;
  top = Math.ceil(top * 1.05 * 2) / 2;
  const x = (step: number): number =>
    left + ((step - 1) / Math.max(1, totalSteps - 1)) * (width - left - pad);
  const y = (v: number): number => height - pad - (Math.min(v, top) / top) * (height - 2 * pad);

  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#4b5563';
  ctx.strokeStyle = '#e5e7eb';
  ctx.lineWidth = 1;
  for (let v = 0; v <= top; v += top > 4 ? 1 : 0.5) {
    ctx.beginPath();
    ctx.moveTo(left, y(v));
    ctx.lineTo(width - pad, y(v));
    ctx.stroke();
    ctx.fillText(v.toFixed(1), 4, y(v) + 4);
  }
  ctx.strokeStyle = '#9ca3af';
  ctx.setLineDash([4, 4]);
  ctx.beginPath();
  ctx.moveTo(left, y(reference));
  ctx.lineTo(width - pad, y(reference));
  ctx.stroke();
  ctx.setLineDash([]);

  const line = (values: readonly number[], stroke: string, lineWidth: number): void => {
    ctx.strokeStyle = stroke;
    ctx.lineWidth = lineWidth;
    ctx.beginPath();
    for (const [i, v] of values.entries()) {
      if (i === 0) ctx.moveTo(x(1), y(v));
      else ctx.lineTo(x(i + 1), y(v));
    }
    ctx.stroke();
  };
  line(losses, '#bfdbfe', 1);
  let sum = 0;
  const mean = losses.map((v, i) => {
    sum += v - (i >= window ? (losses[i - window] as number) : 0);
    return sum / Math.min(i + 1, window);
  });
  line(mean, '#2563eb', 2);
}
