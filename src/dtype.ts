// Element types a tensor can hold, and the typed arrays that carry them across the API.
export type DType = 'f32' | 'i32';
export type TypedArray = Float32Array | Int32Array;

export const BYTES_PER_ELEMENT: Record<DType, number> = { f32: 4, i32: 4 };

export function typedArrayFor(dtype: DType, n: number): TypedArray {
  return dtype === 'f32' ? new Float32Array(n) : new Int32Array(n);
}

export function dtypeOf(data: TypedArray | Float64Array | number[]): DType {
  return data instanceof Int32Array ? 'i32' : 'f32';
}
