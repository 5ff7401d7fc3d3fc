// Every bench suite the CLI knows, in the order `recur bench all` runs them. Add a suite: import it, list it.
import { suite as adamwStep } from './ops/adamw_step.bench.js';
import { suite as attention } from './ops/attention.bench.js';
import { suite as binary } from './ops/binary.bench.js';
import { suite as concat } from './ops/concat.bench.js';
import { suite as causalConv1d } from './ops/causal_conv1d.bench.js';
import { suite as embedding } from './ops/embedding.bench.js';
import { suite as layerNorm } from './ops/layer_norm.bench.js';
import { suite as linearScan } from './ops/linear_scan.bench.js';
import { suite as matmul } from './ops/matmul.bench.js';
import { suite as scan } from './ops/mingru_scan.bench.js';
import { suite as models } from './models.bench.js';
import { suite as minlstmScan } from './ops/minlstm_scan.bench.js';
import { suite as reduce } from './ops/reduce.bench.js';
import { suite as rmsNorm } from './ops/rms_norm.bench.js';
import { suite as slice } from './ops/slice.bench.js';
import { suite as softmax } from './ops/softmax.bench.js';
import { suite as softmaxCrossEntropy } from './ops/softmax_cross_entropy.bench.js';
import { suite as sruScan } from './ops/sru_scan.bench.js';
import { suite as transpose } from './ops/transpose.bench.js';
import { suite as unary } from './ops/unary.bench.js';
import { suite as scheduler } from './scheduler.bench.js';
import type { BenchSuite } from './runner.js';

export const SUITES: readonly BenchSuite[] = [matmul, unary, binary, reduce, softmax, layerNorm, rmsNorm, embedding, softmaxCrossEntropy, adamwStep, linearScan, causalConv1d, sruScan, attention, scan, minlstmScan, slice, concat, transpose, scheduler, models];
