// One AdamW step in place, one invocation per element (2-D grid of ceil(n / WG) workgroups):
// m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; p ← p·decay − stepSize·m / (√v·invSqrtBc2 + ε).
// decay = 1 − lr·wd, stepSize = lr/(1−β1^t), invSqrtBc2 = 1/√(1−β2^t), computed on the host.
// adaptive = 0: the un-adapted momentum step p ← p·decay − stepSize·m (RAdam before rectification; v still updated).

override WG: u32 = 256;

struct Params { n: u32, decay: f32, beta1: f32, beta2: f32, stepSize: f32, invSqrtBc2: f32, eps: f32, adaptive: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>; // (n) updated in place
@group(0) @binding(2) var<storage, read> grad: array<f32>;        // (n)
@group(0) @binding(3) var<storage, read_write> m: array<f32>;     // (n) updated in place
@group(0) @binding(4) var<storage, read_write> v: array<f32>;     // (n) updated in place

@compute @workgroup_size(WG)
fn adamw_step(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= u.n) { return; }
  let g = grad[i];
  let mi = u.beta1 * m[i] + (1.0 - u.beta1) * g;
  let vi = u.beta2 * v[i] + (1.0 - u.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let upd = select(mi, mi / (sqrt(vi) * u.invSqrtBc2 + u.eps), u.adaptive != 0u);
  param[i] = param[i] * u.decay - u.stepSize * upd;
}
