// The hand-written reference with only @recurrent/tensor beside it.
import { rnnForward } from '@recurrent/reference';
import { Generator, randn, zeros } from '@recurrent/tensor';

const g = new Generator(0);
const [hOut, hLast] = rnnForward(
  randn([2, 3, 2], { generator: g }),
  randn([3, 2], { generator: g }),
  randn([3, 3], { generator: g }),
  randn([3], { generator: g }),
  randn([3], { generator: g }),
  zeros([2, 3]),
);
console.log(JSON.stringify({ shapes: [hOut.shape, hLast.shape] }));
