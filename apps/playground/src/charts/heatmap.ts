/**
 * Draws a (rows × cols) matrix as a heatmap on a canvas: values in [−1, 1] map from blue through white
 * to red (relu states above 1 saturate to red). Rows are hidden units, columns time steps.
 */
export function drawHeatmap(
  canvas: HTMLCanvasElement,
  values: Float32Array,
  rows: number,
  cols: number,
): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const w = canvas.width / cols;
  const h = canvas.height / rows;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      ctx.fillStyle = color(values[r * cols + c] as number);
      ctx.fillRect(c * w, r * h, Math.ceil(w), Math.ceil(h));
    }
  }
}

function color(v: number): string {
  if (Number.isNaN(v)) return 'rgb(0,0,0)';
  const x = Math.max(-1, Math.min(1, v));
  const fade = Math.round(255 * (1 - Math.abs(x)));
  return x >= 0 ? `rgb(255,${fade},${fade})` : `rgb(${fade},${fade},255)`;
}
