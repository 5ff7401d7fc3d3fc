// Module declarations for the loaders that mirror esbuild's: .wasm as bytes (or a compiled module on workerd), .wgsl as text.
declare module '*.wasm' {
  const module: Uint8Array | WebAssembly.Module;
  export default module;
}
declare module '*.wgsl' {
  const source: string;
  export default source;
}
