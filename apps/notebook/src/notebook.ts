import { RNN } from '@recurrent/nn';
import { rnnForward } from '@recurrent/reference';
import { manualSeed, maxAbsDiff, rand, randn, type Tensor, unsqueeze, zeros } from '@recurrent/tensor';

/** One cell of the notebook: a title, the PyTorch it mirrors, and what it printed. */
export interface Cell {
  title: string;
  python: string;
  /** The input the cell drew (`torch.rand` in cells 1 and 2, `torch.randn` in cell 3). */
  input: Tensor;
  values: Record<string, Tensor>;
  shapes: Record<string, readonly number[]>;
  lines: string[];
}

/**
 * The notebook this project started from, cell by cell. Under `manualSeed(seed)` the numbers are the ones
 * PyTorch prints after `torch.manual_seed(seed)`: same initialization, same random input, same forward.
 */
export function runNotebook(seed = 0): Cell[] {
  manualSeed(seed);
  const cells: Cell[] = [];

  // Cell 1: a single-layer, batch-first RNN on a (1, 2, 4) input drawn uniformly, as the notebook does.
  const rnn = new RNN({ inputSize: 4, hiddenSize: 3, batchFirst: true });
  const input = rand([1, 2, 4]);
  const [output, hN] = rnn.forward(input);
  cells.push(
    cell(
      'single-layer, batch-first RNN',
      'rnn = nn.RNN(input_size=4, hidden_size=3, batch_first=True)\ninput = torch.rand(1, 2, 4)\noutput, h_n = rnn(input)',
      { output, h_n: hN },
      input,
    ),
  );

  // Cell 2: the same, bidirectional: both directions concatenated on the last dimension.
  const birnn = new RNN({ inputSize: 4, hiddenSize: 3, batchFirst: true, bidirectional: true });
  const biInput = rand([1, 2, 4]);
  const [biOutput, biHN] = birnn.forward(biInput);
  cells.push(
    cell(
      'bidirectional',
      'rnn = nn.RNN(input_size=4, hidden_size=3, batch_first=True, bidirectional=True)\ninput = torch.rand(1, 2, 4)\noutput, h_n = rnn(input)',
      { output: biOutput, h_n: biHN },
      biInput,
    ),
  );

  // Cell 3: nn.RNN against the hand-written rnn_forward with the module's own weights.
  const [bs, T, inputSize, hiddenSize] = [2, 3, 2, 3];
  const rnn3 = new RNN({ inputSize, hiddenSize, batchFirst: true });
  const x = randn([bs, T, inputSize]);
  const h0 = zeros([bs, hiddenSize]);
  const [moduleOut, moduleHN] = rnn3.forward(x, unsqueeze(h0, 0));
  const w = rnn3.stateDict();
  const [customOut, customHN] = rnnForward(
    x,
    w.weight_ih_l0 as Tensor,
    w.weight_hh_l0 as Tensor,
    w.bias_ih_l0 as Tensor,
    w.bias_hh_l0 as Tensor,
    h0,
  );
  const c3 = cell(
    'nn.RNN against the hand-written rnn_forward',
    'bs, T, input_size, hidden_size = 2, 3, 2, 3\nrnn = nn.RNN(input_size, hidden_size, batch_first=True)\ninput = torch.randn(bs, T, input_size)\nh0 = torch.zeros(bs, hidden_size)\noutput, h_n = rnn(input, h0.unsqueeze(0))\ncustom_output, custom_h_n = rnn_forward(input, rnn.weight_ih_l0, rnn.weight_hh_l0,\n                                         rnn.bias_ih_l0, rnn.bias_hh_l0, h0)',
    { output: moduleOut, h_n: moduleHN, custom_output: customOut, custom_h_n: customHN },
    x,
  );
  c3.lines.push(
    `max |output - custom_output| = ${maxAbsDiff(moduleOut, customOut).toExponential(2)}`,
    `max |h_n - custom_h_n|       = ${maxAbsDiff(moduleHN, customHN).toExponential(2)}`,
  );
  cells.push(c3);
  return cells;
}

function cell(title: string, python: string, values: Record<string, Tensor>, input: Tensor): Cell {
  const shapes = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.shape]));
  const lines = Object.entries(values).flatMap(([k, v]) => [`${k} =`, String(v)]);
  lines.push(...Object.entries(shapes).map(([k, s]) => `${k}.shape = [${s.join(', ')}]`));
  return { title, python, input, values, shapes, lines };
}

/** The notebook as text, the way the CLI prints it. */
export function renderNotebook(cells: Cell[]): string {
  return cells
    .map((c, i) => {
      const python = c.python
        .split('\n')
        .map((l) => `  >>> ${l}`)
        .join('\n');
      return `[${i + 1}] ${c.title}\n${python}\n\n${c.lines.join('\n')}\n`;
    })
    .join('\n');
}
