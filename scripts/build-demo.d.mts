// Types of scripts/build-demo.mjs for the TypeScript tests.
export const DEMO_OUT: string;
export const DEFAULT_CORPUS_BYTES: number;
export function buildDemo(opts?: { corpusBytes?: number; quiet?: boolean; outDir?: string }): Promise<string>;
