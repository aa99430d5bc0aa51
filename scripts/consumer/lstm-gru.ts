// The LSTM/GRU usage as a user of the published packages writes it, on a PyTorch checkpoint
// (fixtures/checkpoints/lstm_proj_bidirectional_2layers_batch_first.safetensors, copied here with the
// input, states and PyTorch's outputs in case.json).
import { readFileSync } from 'node:fs';
import { GRU, GRUCell, LSTM, LSTMCell, loadSafetensors } from '@recurrent/nn';
import { maxAbsDiff, randn, type Tensor, tensor } from '@recurrent/tensor';

interface Encoded {
  shape: number[];
  data: number[];
}
const c = JSON.parse(readFileSync('case.json', 'utf8')) as Record<
  'input' | 'h0' | 'c0' | 'output' | 'hN' | 'cN',
  Encoded
>;
const decode = (e: Encoded): Tensor => tensor(Float32Array.from(e.data), e.shape);

const lstm = new LSTM({
  inputSize: 5,
  hiddenSize: 7,
  numLayers: 2,
  batchFirst: true,
  bidirectional: true,
  projSize: 3,
});
lstm.loadStateDict(loadSafetensors(readFileSync('lstm.safetensors')));
lstm.eval();
const x = decode(c.input);
const [output, [hN, cN]] = lstm.forward(x, [decode(c.h0), decode(c.c0)]);
const [outputNoState] = lstm.forward(x); // or lstm.forward(x)
const [out2, hN2] = new GRU({ inputSize: 5, hiddenSize: 7 }).forward(randn([4, 2, 5]), randn([1, 2, 7]));
const [h, cell] = new LSTMCell({ inputSize: 5, hiddenSize: 7 }).forward(randn([2, 5]));
const g = new GRUCell({ inputSize: 5, hiddenSize: 7 }).forward(randn([2, 5]), h);
console.log(
  JSON.stringify({
    output: maxAbsDiff(output, decode(c.output)),
    hN: maxAbsDiff(hN, decode(c.hN)),
    cN: maxAbsDiff(cN, decode(c.cN)),
    shapes: [outputNoState.shape, out2.shape, hN2.shape, h.shape, cell.shape, g.shape],
  }),
);
