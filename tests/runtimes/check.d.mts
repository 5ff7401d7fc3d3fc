// Types of check.mjs (plain JavaScript so that every runtime, workerd included, runs it as is).
export declare const TOLERANCE: { abs: number; rel: number };
export interface FixtureExpected {
  prompt: string; tokens: number; seed: number; temperature: number;
  promptIds: number[]; expectedTokens: number[]; text: string; logitRows: number[]; logits: number[][];
}
export interface CheckResult {
  backend: string; ok: boolean; tokensEqual?: boolean; logitsAgree?: boolean; maxAbsDiff?: number; text?: string; error?: string; source?: string; gpu?: string;
}
export declare function checkFixture(infer: unknown, source: unknown, expected: FixtureExpected, backend: 'wasm' | 'webgpu'): Promise<CheckResult>;
export declare function failure(backend: string, e: unknown): CheckResult;
