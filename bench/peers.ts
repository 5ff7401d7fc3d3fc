// The peers the benches compare against, loaded lazily from devDependencies: tfjs-backend-wasm (XNNPACK) and
// onnxruntime-web (wasm, one thread), plus a tiny hand-encoded ONNX model: C = MatMul(A, B) with B a constant.

type Tfjs = typeof import('@tensorflow/tfjs-core');
type Ort = typeof import('onnxruntime-web');

let tfjs: Promise<Tfjs | string> | null = null;
let ort: Promise<Ort | string> | null = null;

/** tfjs-core on its wasm backend (single-threaded in Node), or why it could not start. */
export function loadTfjsWasm(): Promise<Tfjs | string> {
  tfjs ??= (async () => {
    try {
      const tf = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) return 'tf.setBackend("wasm") returned false';
      await tf.ready();
      return tf;
    } catch (e) {
      return `tfjs-backend-wasm did not load: ${(e as Error).message}`;
    }
  })();
  return tfjs;
}

/** onnxruntime-web with its wasm backend on one thread, or why it could not start. */
export function loadOrtWeb(): Promise<Ort | string> {
  ort ??= (async () => {
    try {
      const o = await import('onnxruntime-web');
      o.env.wasm.numThreads = 1;
      o.env.logLevel = 'error';
      return o;
    } catch (e) {
      return `onnxruntime-web did not load: ${(e as Error).message}`;
    }
  })();
  return ort;
}

// ---- a minimal protobuf writer, enough for one ONNX graph ------------------------------------------------
type Field = [no: number, value: number | string | Uint8Array | Field[]];

function varint(n: number, out: number[]): void {
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

/** Encodes fields in order: numbers as varints, strings/bytes/sub-messages length-delimited. */
function message(fields: Field[]): Uint8Array {
  const out: number[] = [];
  const chunks: Uint8Array[] = [];
  const flush = () => {
    chunks.push(Uint8Array.from(out));
    out.length = 0;
  };
  for (const [no, v] of fields) {
    if (typeof v === 'number') {
      varint(no * 8, out);
      varint(v, out);
      continue;
    }
    const bytes = typeof v === 'string' ? new TextEncoder().encode(v) : v instanceof Uint8Array ? v : message(v);
    varint(no * 8 + 2, out);
    varint(bytes.length, out);
    flush();
    chunks.push(bytes);
  }
  flush();
  const total = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    total.set(c, o);
    o += c.length;
  }
  return total;
}

const FLOAT = 1; // TensorProto.DataType.FLOAT

function valueInfo(name: string, dims: number[]): Field[] {
  const shape: Field[] = dims.map((d) => [1, [[1, d]]] as Field); // TensorShapeProto.dim { dim_value }
  return [[1, name], [2, [[1, [[1, FLOAT], [2, shape]]]]]]; // ValueInfoProto { name, type { tensor_type { elem_type, shape } } }
}

/**
 * ONNX ModelProto (IR 8, opset 13) computing C[M,N] = MatMul(A[M,K], B[K,N]). With `b` given, B is a
 * constant initializer (weights resident in the session); without, B is a second graph input.
 */
export function onnxMatmulModel(M: number, K: number, N: number, b?: Float32Array): Uint8Array {
  const graph: Field[] = [[1, [[1, 'A'], [1, 'B'], [2, 'C'], [3, 'matmul'], [4, 'MatMul']]], [2, 'recur-bench-matmul']];
  if (b) {
    const raw = new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    graph.push([5, [[1, K], [1, N], [2, FLOAT], [8, 'B'], [9, raw]]]); // TensorProto { dims, data_type, name, raw_data }
  }
  graph.push([11, valueInfo('A', [M, K])]);
  if (!b) graph.push([11, valueInfo('B', [K, N])]);
  graph.push([12, valueInfo('C', [M, N])]);
  return message([[1, 8], [2, 'recur-bench'], [7, graph], [8, [[1, ''], [2, 13]]]]);
}
