// Element-wise y = f(x) and dx = dy·f'(x) over n contiguous f32; fn ids follow UNARY_FNS in src/ops/unary.ts.
// Each fn gets its own loop (the id is a constant after inlining), tails run the same vector code on a partial vector.
import { loadPartial4, storePartial4, vdtanh4, vexp4, vlog1p4, vlog4, vnormpdf4, vphi4, vsigmoid4, vsoftplus4, vtanh4 } from '../lib/vmath';

@inline function k4(c: f32): v128 {
  return f32x4.splat(c);
}

// One class per fn (ids in order): f(x) and dy·f'(x). Generic loops over them compile to one loop per fn.
@final class Neg {
  @inline f(x: v128): v128 { return f32x4.neg(x); }
  @inline df(_x: v128, dy: v128): v128 { return f32x4.neg(dy); }
}
@final class Exp {
  @inline f(x: v128): v128 { return vexp4(x); }
  @inline df(x: v128, dy: v128): v128 { return f32x4.mul(dy, vexp4(x)); }
}
@final class Log {
  @inline f(x: v128): v128 { return vlog4(x); }
  @inline df(x: v128, dy: v128): v128 { return f32x4.div(dy, x); }
}
@final class Sigmoid {
  @inline f(x: v128): v128 { return vsigmoid4(x); }
  @inline df(x: v128, dy: v128): v128 { return f32x4.mul(dy, f32x4.mul(vsigmoid4(x), vsigmoid4(f32x4.neg(x)))); }
}
@final class Tanh {
  @inline f(x: v128): v128 { return vtanh4(x); }
  @inline df(x: v128, dy: v128): v128 { return f32x4.mul(dy, vdtanh4(x)); }
}
@final class Softplus {
  @inline f(x: v128): v128 { return vsoftplus4(x); }
  @inline df(x: v128, dy: v128): v128 { return f32x4.mul(dy, vsigmoid4(x)); }
}
@final class Relu {
  @inline f(x: v128): v128 { return f32x4.pmax(x, k4(0)); } // x < 0 ? 0 : x, so NaN stays NaN
  @inline df(x: v128, dy: v128): v128 { return v128.and(dy, f32x4.gt(x, k4(0))); } // f'(0) = 0
}
@final class Gelu {
  @inline f(x: v128): v128 { return f32x4.mul(x, vphi4(x)); }
  @inline df(x: v128, dy: v128): v128 { return f32x4.mul(dy, f32x4.add(vphi4(x), f32x4.mul(x, vnormpdf4(x)))); }
}
@final class Silu {
  @inline f(x: v128): v128 { return f32x4.mul(x, vsigmoid4(x)); }
  /** σ(x)·(1 + x·σ(-x)) */
  @inline df(x: v128, dy: v128): v128 {
    return f32x4.mul(dy, f32x4.mul(vsigmoid4(x), f32x4.add(k4(1), f32x4.mul(x, vsigmoid4(f32x4.neg(x))))));
  }
}
@final class G {
  @inline f(x: v128): v128 { return v128.bitselect(f32x4.add(x, k4(0.5)), vsigmoid4(x), f32x4.ge(x, k4(0))); }
  @inline df(x: v128, dy: v128): v128 {
    const d = f32x4.mul(vsigmoid4(x), vsigmoid4(f32x4.neg(x)));
    return f32x4.mul(dy, v128.bitselect(k4(1), d, f32x4.ge(x, k4(0))));
  }
}
@final class LogG {
  /** log(x + ½) = log1p(x - ½) for x ≥ 0 (exact argument near x = ½); -softplus(-x) = x - log1p(eˣ) below. One log1p. */
  @inline f(x: v128): v128 {
    const pos = f32x4.ge(x, k4(0));
    const l = vlog1p4(v128.bitselect(f32x4.sub(x, k4(0.5)), vexp4(x), pos));
    return v128.bitselect(l, f32x4.sub(x, l), pos);
  }
  @inline df(x: v128, dy: v128): v128 {
    const ge = f32x4.ge(x, k4(0));
    return v128.bitselect(f32x4.div(dy, f32x4.add(x, k4(0.5))), f32x4.mul(dy, vsigmoid4(f32x4.neg(x))), ge);
  }
}

@inline function mapFwd<F>(x: usize, y: usize, n: i32): void {
  const fn = changetype<F>(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, fn.f(v128.load(x + o)));
  }
  if (i < n) {
    const o = <usize>i << 2;
    storePartial4(y + o, fn.f(loadPartial4(x + o, n - i)), n - i);
  }
}

@inline function mapBwd<F>(x: usize, dy: usize, dx: usize, n: i32): void {
  const fn = changetype<F>(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, fn.df(v128.load(x + o), v128.load(dy + o)));
  }
  if (i < n) {
    const o = <usize>i << 2;
    storePartial4(dx + o, fn.df(loadPartial4(x + o, n - i), loadPartial4(dy + o, n - i)), n - i);
  }
}

/** y[i] = f(x[i]), i < n. */
export function unary_fwd_f32(x: usize, y: usize, n: i32, fn: i32): void {
  switch (fn) {
    case 0: mapFwd<Neg>(x, y, n); break;
    case 1: mapFwd<Exp>(x, y, n); break;
    case 2: mapFwd<Log>(x, y, n); break;
    case 3: mapFwd<Sigmoid>(x, y, n); break;
    case 4: mapFwd<Tanh>(x, y, n); break;
    case 5: mapFwd<Softplus>(x, y, n); break;
    case 6: mapFwd<Relu>(x, y, n); break;
    case 7: mapFwd<Gelu>(x, y, n); break;
    case 8: mapFwd<Silu>(x, y, n); break;
    case 9: mapFwd<G>(x, y, n); break;
    default: mapFwd<LogG>(x, y, n);
  }
}

/** dx[i] = dy[i]·f'(x[i]), i < n. */
export function unary_bwd_f32(x: usize, dy: usize, dx: usize, n: i32, fn: i32): void {
  switch (fn) {
    case 0: mapBwd<Neg>(x, dy, dx, n); break;
    case 1: mapBwd<Exp>(x, dy, dx, n); break;
    case 2: mapBwd<Log>(x, dy, dx, n); break;
    case 3: mapBwd<Sigmoid>(x, dy, dx, n); break;
    case 4: mapBwd<Tanh>(x, dy, dx, n); break;
    case 5: mapBwd<Softplus>(x, dy, dx, n); break;
    case 6: mapBwd<Relu>(x, dy, dx, n); break;
    case 7: mapBwd<Gelu>(x, dy, dx, n); break;
    case 8: mapBwd<Silu>(x, dy, dx, n); break;
    case 9: mapBwd<G>(x, dy, dx, n); break;
    default: mapBwd<LogG>(x, dy, dx, n);
  }
}
