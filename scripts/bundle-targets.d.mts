import type { BuildOptions, Plugin } from 'esbuild';

export const common: BuildOptions;
export const withoutDebugWasm: Plugin;
export function libraryBuilds(): BuildOptions[];
export function inlineInferBuild(): BuildOptions;
