// Every op, keyed by name. The mapped type makes a missing op (or a missing piece of one) a compile error;
// tests/registry.test.ts checks that each op family also has its test and bench files.
import { adamwStepOp, type AdamWParams } from './adamw_step.js';
import { attentionBwdOp, attentionOp, type AttentionParams } from './attention.js';
import { binaryOp, type BinaryParams } from './binary.js';
import { concatOp, type ConcatParams } from './concat.js';
import { causalConv1dBwdOp, causalConv1dOp, type CausalConv1dParams } from './causal_conv1d.js';
import { embeddingBwdOp, embeddingOp, type EmbeddingBwdParams } from './embedding.js';
import { layerNormBwdOp, layerNormOp, type LayerNormParams } from './layer_norm.js';
import { linearScanBwdOp, linearScanOp, type LinearScanParams } from './linear_scan.js';
import { matmulOp, type MatmulParams } from './matmul.js';
import { mingruScanBwdOp, mingruScanOp, type MinGruScanParams } from './mingru_scan.js';
import { minlstmScanBwdOp, minlstmScanOp, type MinLstmScanParams } from './minlstm_scan.js';
import type { OpDef } from './op.js';
import { reduceBwdOp, reduceOp, type ReduceParams } from './reduce.js';
import { rmsNormBwdOp, rmsNormOp, type RmsNormParams } from './rms_norm.js';
import { sliceBwdOp, sliceOp, splitOp, type SliceBwdParams, type SliceParams, type SplitParams } from './slice.js';
import { softmaxBwdOp, softmaxOp } from './softmax.js';
import { softmaxCrossEntropyBwdOp, softmaxCrossEntropyOp } from './softmax_cross_entropy.js';
import { sruScanBwdOp, sruScanOp, type SruScanBwdParams, type SruScanParams } from './sru_scan.js';
import { transposeOp, type TransposeParams } from './transpose.js';
import { unaryBwdOp, unaryOp, type UnaryParams } from './unary.js';

type NoParams = Record<string, never>;

/** Params of every registered op. Adding an op here without a full OpDef below fails to compile. */
export interface OpParams {
  matmul: MatmulParams;
  unary: UnaryParams;
  unary_bwd: UnaryParams;
  binary: BinaryParams;
  reduce: ReduceParams;
  reduce_bwd: ReduceParams;
  softmax: NoParams;
  softmax_bwd: NoParams;
  layer_norm: LayerNormParams;
  layer_norm_bwd: LayerNormParams;
  rms_norm: RmsNormParams;
  rms_norm_bwd: RmsNormParams;
  embedding: NoParams;
  embedding_bwd: EmbeddingBwdParams;
  softmax_cross_entropy: NoParams;
  softmax_cross_entropy_bwd: NoParams;
  adamw_step: AdamWParams;
  mingru_scan: MinGruScanParams;
  mingru_scan_bwd: MinGruScanParams;
  minlstm_scan: MinLstmScanParams;
  minlstm_scan_bwd: MinLstmScanParams;
  sru_scan: SruScanParams;
  sru_scan_bwd: SruScanBwdParams;
  linear_scan: LinearScanParams;
  linear_scan_bwd: LinearScanParams;
  causal_conv1d: CausalConv1dParams;
  causal_conv1d_bwd: CausalConv1dParams;
  attention: AttentionParams;
  attention_bwd: AttentionParams;
  slice: SliceParams;
  slice_bwd: SliceBwdParams;
  split: SplitParams;
  concat: ConcatParams;
  transpose: TransposeParams;
}
export type OpName = keyof OpParams;

export const OPS: { readonly [K in OpName]: OpDef<OpParams[K]> } = {
  matmul: matmulOp,
  unary: unaryOp,
  unary_bwd: unaryBwdOp,
  binary: binaryOp,
  reduce: reduceOp,
  reduce_bwd: reduceBwdOp,
  softmax: softmaxOp,
  softmax_bwd: softmaxBwdOp,
  layer_norm: layerNormOp,
  layer_norm_bwd: layerNormBwdOp,
  rms_norm: rmsNormOp,
  rms_norm_bwd: rmsNormBwdOp,
  embedding: embeddingOp,
  embedding_bwd: embeddingBwdOp,
  softmax_cross_entropy: softmaxCrossEntropyOp,
  softmax_cross_entropy_bwd: softmaxCrossEntropyBwdOp,
  adamw_step: adamwStepOp,
  mingru_scan: mingruScanOp,
  mingru_scan_bwd: mingruScanBwdOp,
  minlstm_scan: minlstmScanOp,
  minlstm_scan_bwd: minlstmScanBwdOp,
  sru_scan: sruScanOp,
  sru_scan_bwd: sruScanBwdOp,
  linear_scan: linearScanOp,
  linear_scan_bwd: linearScanBwdOp,
  causal_conv1d: causalConv1dOp,
  causal_conv1d_bwd: causalConv1dBwdOp,
  attention: attentionOp,
  attention_bwd: attentionBwdOp,
  slice: sliceOp,
  slice_bwd: sliceBwdOp,
  split: splitOp,
  concat: concatOp,
  transpose: transposeOp,
};

/** Op families (the stem shared by the five files). */
export function opFamilies(): string[] {
  return [...new Set(Object.values(OPS).map((o) => o.family))];
}
