// C[b] = A[b]·B[b] (+ bias), element strides so either operand may be transposed or shared (batch stride 0).
// Pointers are byte offsets; strides are in elements; C is contiguous (batch, M, N). Paths: a cache-blocked,
// packed GEMM around a register micro-kernel (matmul_packed_f32), and memory-bound small-M kernels.
import { INIT_BIAS, INIT_LOAD, INIT_ZERO, matmulMicro, MICRO_MR as MR, MICRO_NR as NR } from '../lib/matmul_micro';
import { packA, packB } from '../lib/matmul_pack';
export { matmul_rows_f32, matmul_dot_f32 } from '../lib/matmul_small';
export { peak_f32x4 } from '../lib/peak';

/** Cache blocking: a KC x NC block of B is packed once and reused by every MC-row block of A. */
const MC: i32 = 120; // an A block MC x KC (120 KB) stays in L2; a multiple of both micro-tile heights (5, 6)
const KC: i32 = 256; // a B micro-panel KC x 8 (8 KB) stays in L1 while every A panel of the block passes it
const NC: i32 = 4096; // a B block KC x NC only needs L3: each byte of it feeds MC/2 flops

@inline function roundUp(x: i32, to: i32): i32 {
  return (x + to - 1) / to * to;
}

/** Bytes of scratch matmul_packed_f32 needs for these dims (packed A block, packed B block, one edge tile). */
export function matmul_packed_scratch_bytes(M: i32, N: i32, K: i32): i32 {
  const kc = min(K, KC);
  const aBytes = roundUp(min(M, MC), MR) * kc * 4;
  const bBytes = roundUp(min(N, NC), NR) * kc * 4;
  return roundUp(aBytes, 16) + roundUp(bBytes, 16) + MR * NR * 4;
}

/**
 * The blocked GEMM (BLIS loop order jc, pc, ic, jr, ir). `work` is scratch of matmul_packed_scratch_bytes.
 * When B is shared across the batch (sBb == 0) each packed B block serves every batch entry.
 */
export function matmul_packed_f32(
  a: usize, b: usize, bias: usize, c: usize,
  batch: i32, M: i32, N: i32, K: i32,
  sAb: i32, sAm: i32, sAk: i32,
  sBb: i32, sBk: i32, sBn: i32,
  work: usize,
): void {
  const kcMax = min(K, KC);
  const pa = work;
  const pb = pa + <usize>roundUp(roundUp(min(M, MC), MR) * kcMax * 4, 16);
  const tile = pb + <usize>roundUp(roundUp(min(N, NC), NR) * kcMax * 4, 16);
  const groupSize = sBb == 0 ? batch : 1;
  for (let bt0 = 0; bt0 < batch; bt0 += groupSize) {
    const B0 = b + (<usize>(bt0 * sBb) << 2);
    for (let jc = 0; jc < N; jc += NC) {
      const nc = min(NC, N - jc);
      for (let pc = 0; pc < K; pc += KC) {
        const kc = min(KC, K - pc);
        const init = pc > 0 ? INIT_LOAD : bias ? INIT_BIAS : INIT_ZERO;
        packB(pb, B0, sBk, sBn, pc, kc, jc, nc);
        for (let bt = bt0; bt < bt0 + groupSize; bt++) {
          const A0 = a + (<usize>(bt * sAb) << 2);
          const C0 = c + (<usize>(bt * M * N + jc) << 2);
          for (let ic = 0; ic < M; ic += MC) {
            const mc = min(MC, M - ic);
            packA(pa, A0, sAm, sAk, ic, mc, pc, kc);
            const biasJc = bias ? bias + (<usize>jc << 2) : 0;
            macroKernel(pa, pb, mc, nc, kc, C0 + (<usize>(ic * N) << 2), <usize>N << 2, init, biasJc, tile);
          }
        }
      }
    }
  }
}

/** Runs the micro-kernel over an mc x nc block of C from packed panels; edge tiles go through `tile`. */
function macroKernel(pa: usize, pb: usize, mc: i32, nc: i32, kc: i32, c: usize, ldc: usize, init: i32, bias: usize, tile: usize): void {
  const panelB = <usize>(kc * NR) << 2;
  const panelA = <usize>(kc * MR) << 2;
  for (let j = 0; j < nc; j += NR) {
    const cols = min(NR, nc - j);
    let pai = pa;
    for (let i = 0; i < mc; i += MR) {
      const rows = min(MR, mc - i);
      const ct = c + <usize>i * ldc + (<usize>j << 2);
      if (rows == MR && cols == NR) {
        matmulMicro(pai, pb, kc, ct, ldc, init, bias + (<usize>j << 2));
      } else {
        edgeTile(pai, pb, kc, ct, ldc, init, bias + (<usize>j << 2), tile, rows, cols);
      }
      pai += panelA;
    }
    pb += panelB;
  }
}

/** A partial tile (rows < MR or cols < 8): computed in a full MR x 8 scratch tile, then the valid part copied. */
function edgeTile(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, init: i32, bias: usize, tile: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < MR; r++) {
    for (let j = 0; j < NR; j++) {
      let v: f32 = 0;
      if (r < rows && j < cols) {
        if (init == INIT_LOAD) v = load<f32>(c + <usize>r * ldc + (<usize>j << 2));
        else if (init == INIT_BIAS) v = load<f32>(bias + (<usize>j << 2));
      }
      store<f32>(tile + (<usize>(r * NR + j) << 2), v);
    }
  }
  matmulMicro(pa, pb, kc, tile, NR << 2, INIT_LOAD, 0);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      store<f32>(c + <usize>r * ldc + (<usize>j << 2), load<f32>(tile + (<usize>(r * NR + j) << 2)));
    }
  }
}
