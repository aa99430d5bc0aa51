// The notebook's first cell, as a user of the published CPU packages writes it.
import { RNN } from '@recurrent/nn';
import { manualSeed, randn } from '@recurrent/tensor';

manualSeed(0);
const rnn = new RNN({ inputSize: 4, hiddenSize: 3, batchFirst: true });
const [output, hN] = rnn.forward(randn([1, 2, 4]));
const shapes: [readonly number[], readonly number[]] = [output.shape, hN.shape];
console.log(JSON.stringify({ output: String(output), h_n: String(hN), shapes }));
