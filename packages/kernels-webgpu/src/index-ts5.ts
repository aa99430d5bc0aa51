/// <reference types="@webgpu/types" preserve="true" />
// The entry TypeScript 5 resolves (`types@<6` in the exports map): its lib.dom has no WebGPU types, so this one
// brings @webgpu/types. TypeScript 6 and 7 get index.d.ts, which leaves WebGPU to their lib.dom: @webgpu/types
// beside it clashes (TS2300, TS6200: 50 errors under 6.0, 182 under 7.0, with skipLibCheck false). Only this
// file keeps the reference in its .d.ts (`preserve`); the others use it to build.
export * from './index.js';
