// Element-wise comparison that reports the max difference and the first bad index (llm.c's check_tensor).
export interface Tol {
  atol: number;
  rtol: number;
}

export interface CloseReport {
  ok: boolean;
  maxAbs: number;
  maxAbsAt: number;
  firstBad: number;
  message: string;
}

export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol, what: string): CloseReport {
  if (actual.length !== expected.length) {
    return { ok: false, maxAbs: Infinity, maxAbsAt: -1, firstBad: 0, message: `${what}: length ${actual.length}, expected ${expected.length}` };
  }
  let maxAbs = 0;
  let maxAbsAt = -1;
  let firstBad = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const d = Math.abs(a - e);
    const bad = !(d <= tol.atol + tol.rtol * Math.abs(e)) && !(Number.isNaN(a) && Number.isNaN(e)) && a !== e;
    if (Number.isNaN(d) ? maxAbs !== Infinity : d > maxAbs) {
      maxAbs = Number.isNaN(d) ? Infinity : d;
      maxAbsAt = i;
    }
    if (bad && firstBad < 0) firstBad = i;
  }
  const ok = firstBad < 0;
  const message = ok
    ? `${what}: ok (max |diff| ${maxAbs.toExponential(2)})`
    : `${what}: max |diff| ${maxAbs.toExponential(3)} at [${maxAbsAt}] (got ${actual[maxAbsAt]}, want ${expected[maxAbsAt]}); ` +
      `first bad index ${firstBad} (got ${actual[firstBad]}, want ${expected[firstBad]}); tol atol ${tol.atol} rtol ${tol.rtol}`;
  return { ok, maxAbs, maxAbsAt, firstBad, message };
}

/** Throws with the report's message when the arrays differ beyond tol. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol, what: string): void {
  const r = compare(actual, expected, tol, what);
  if (!r.ok) throw new Error(r.message);
}
