// Node test setup: allow relaxed SIMD in V8 (a flag in execArgv would break worker pools).
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--experimental-wasm-relaxed-simd');
