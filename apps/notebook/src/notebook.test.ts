import { describe, expect, it } from 'vitest';
import { readFixture } from '../../../fixtures/load.js';
import { renderNotebook, runNotebook } from './notebook.js';

interface Printed {
  input: string;
  output: string;
  h_n: string;
  shapes: number[][];
}
const torch = readFixture<Record<'cell1' | 'cell2' | 'cell3', Printed>>('notebook.json');

describe('the notebook demo', () => {
  const cells = runNotebook(0);

  it.each([
    [0, 'cell1'],
    [1, 'cell2'],
    [2, 'cell3'],
  ] as const)('cell %i prints what PyTorch printed under torch.manual_seed(0)', (i, key) => {
    const c = cells[i];
    // the notebook draws cells 1 and 2 with torch.rand (uniform), cell 3 with torch.randn
    expect(c?.python).toContain(
      i < 2 ? 'input = torch.rand(1, 2, 4)' : 'input = torch.randn(bs, T, input_size)',
    );
    expect(String(c?.input)).toBe(torch[key].input);
    expect(String(c?.values.output)).toBe(torch[key].output);
    expect(String(c?.values.h_n)).toBe(torch[key].h_n);
    expect([c?.shapes.output, c?.shapes.h_n]).toEqual(torch[key].shapes);
  });

  it('cell 3 shows nn.RNN and rnnForward agreeing', () => {
    const text = renderNotebook(cells);
    const diff = /max \|output - custom_output\| = (\S+)/.exec(text)?.[1];
    expect(Number(diff)).toBeLessThan(1e-5);
    // the same numbers; only the last op differs (rnnForward ends with a stack, nn.RNN with a transpose)
    const numbers = (t: string) => t.replace(/,\s*grad_fn=<\w+>/, '');
    expect(String(cells[2]?.values.custom_output)).toMatch(/grad_fn=<StackBackward0>\)$/);
    expect(numbers(String(cells[2]?.values.custom_output))).toBe(numbers(torch.cell3.output));
  });
});
