/**
 * Validates BLAS-style sgemm arguments (row-major, leading dimensions), throwing the errors both the
 * TypeScript and the WebAssembly sgemm give. `fn` names the function in the messages.
 */
export function checkSgemmArgs(
  fn: string,
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  aOffset: number,
  lda: number,
  B: Float32Array,
  bOffset: number,
  ldb: number,
  C: Float32Array,
  cOffset: number,
  ldc: number,
): void {
  checkDim(fn, 'M', M);
  checkDim(fn, 'N', N);
  checkDim(fn, 'K', K);
  checkMatrix(fn, 'A', A, aOffset, 'lda', lda, transA ? K : M, transA ? M : K, transA ? 'M' : 'K');
  checkMatrix(fn, 'B', B, bOffset, 'ldb', ldb, transB ? N : K, transB ? K : N, transB ? 'K' : 'N');
  checkMatrix(fn, 'C', C, cOffset, 'ldc', ldc, M, N, 'N');
}

function checkDim(fn: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`${fn}: ${name} must be a non-negative integer, received ${value}`);
  }
}

/** Checks a stored rows×cols matrix: a Float32Array, offset, leading dimension ≥ cols, and length. */
function checkMatrix(
  fn: string,
  name: string,
  arr: Float32Array,
  offset: number,
  ldName: string,
  ld: number,
  rows: number,
  cols: number,
  colsName: string,
): void {
  if (!(arr instanceof Float32Array)) {
    throw new TypeError(
      `${fn}: ${name} must be a Float32Array, received ${Object.prototype.toString.call(arr)}`,
    );
  }
  if (!Number.isInteger(offset) || offset < 0) {
    throw new RangeError(`${fn}: offset of ${name} must be a non-negative integer, received ${offset}`);
  }
  if (!Number.isInteger(ld) || ld < Math.max(1, cols)) {
    throw new RangeError(
      `${fn}: ${ldName} must be an integer >= ${Math.max(1, cols)} (max(1, ${colsName})), received ${ld}`,
    );
  }
  const need = rows === 0 || cols === 0 ? 0 : offset + (rows - 1) * ld + cols;
  if (arr.length < need) {
    throw new RangeError(
      `${fn}: ${name} is too short: ${rows}×${cols} from offset ${offset} with ${ldName} = ${ld} needs ` +
        `length >= ${need}, received ${arr.length}`,
    );
  }
}
