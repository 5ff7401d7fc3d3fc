// c = a ∘ b with broadcasting: c is contiguous over dims[0..r); a and b are read with element strides (0 on
// broadcast axes). meta holds i32 dims[r], sa[r], sb[r] and r counters of scratch. The innermost axis is vectorised
// when both operands are contiguous there or one is broadcast along it (a bias row, a scalar).

@final class Add {
  @inline v(a: v128, b: v128): v128 { return f32x4.add(a, b); }
  @inline s(a: f32, b: f32): f32 { return a + b; }
}
@final class Sub {
  @inline v(a: v128, b: v128): v128 { return f32x4.sub(a, b); }
  @inline s(a: f32, b: f32): f32 { return a - b; }
}
@final class Mul {
  @inline v(a: v128, b: v128): v128 { return f32x4.mul(a, b); }
  @inline s(a: f32, b: f32): f32 { return a * b; }
}
@final class Div {
  @inline v(a: v128, b: v128): v128 { return f32x4.div(a, b); }
  @inline s(a: f32, b: f32): f32 { return a / b; }
}

/** One output row of n elements; a and b advance by sa and sb elements. */
@inline function row<F>(a: usize, b: usize, c: usize, n: i32, sa: i32, sb: i32): void {
  const op = changetype<F>(0);
  let i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      v128.store(c + o, op.v(v128.load(a + o), v128.load(b + o)));
      v128.store(c + o, op.v(v128.load(a + o, 16), v128.load(b + o, 16)), 16);
    }
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(c + o, op.v(v128.load(a + o), v128.load(b + o)));
    }
  } else if (sa == 1 && sb == 0) {
    const bv = v128.load32_splat(b);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(c + o, op.v(v128.load(a + o), bv));
    }
  } else if (sa == 0 && sb == 1) {
    const av = v128.load32_splat(a);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(c + o, op.v(av, v128.load(b + o)));
    }
  }
  for (; i < n; i++) {
    store<f32>(c + (<usize>i << 2), op.s(load<f32>(a + (<usize>(i * sa) << 2)), load<f32>(b + (<usize>(i * sb) << 2))));
  }
}

@inline function run<F>(a: usize, b: usize, c: usize, r: i32, meta: usize): void {
  const dims = meta;
  const sa = meta + (<usize>r << 2);
  const sb = meta + (<usize>(2 * r) << 2);
  const cnt = meta + (<usize>(3 * r) << 2);
  const last = <usize>(r - 1) << 2;
  const n = load<i32>(dims + last);
  const saIn = load<i32>(sa + last);
  const sbIn = load<i32>(sb + last);
  let rows = 1;
  for (let d = 0; d < r - 1; d++) {
    rows *= load<i32>(dims + (<usize>d << 2));
    store<i32>(cnt + (<usize>d << 2), 0);
  }
  let oa = 0;
  let ob = 0;
  for (let q = 0; q < rows; q++) {
    row<F>(a + (<usize>oa << 2), b + (<usize>ob << 2), c + (<usize>(q * n) << 2), n, saIn, sbIn);
    // odometer over the outer dims, innermost first
    for (let d = r - 2; d >= 0; d--) {
      const od = <usize>d << 2;
      const k = load<i32>(cnt + od) + 1;
      oa += load<i32>(sa + od);
      ob += load<i32>(sb + od);
      if (k < load<i32>(dims + od)) {
        store<i32>(cnt + od, k);
        break;
      }
      store<i32>(cnt + od, 0);
      oa -= k * load<i32>(sa + od);
      ob -= k * load<i32>(sb + od);
    }
  }
}

/** c = a ∘ b; fn: 0 add, 1 sub, 2 mul, 3 div (BINARY_FNS in src/ops/binary.ts). */
export function binary_fwd_f32(a: usize, b: usize, c: usize, fn: i32, r: i32, meta: usize): void {
  switch (fn) {
    case 0: run<Add>(a, b, c, r, meta); break;
    case 1: run<Sub>(a, b, c, r, meta); break;
    case 2: run<Mul>(a, b, c, r, meta); break;
    default: run<Div>(a, b, c, r, meta);
  }
}
