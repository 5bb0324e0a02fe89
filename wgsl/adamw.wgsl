// adamw: one fused AdamW step per element, PyTorch semantics (torch.optim.AdamW, 1.13):
//   g  = grad · gscale[0]                       (gscale: global-norm clipping factor, or 1)
//   p ← p · (1 − lr·wd)                          (decoupled weight decay)
//   m ← β1·m + (1−β1)·g ;  v ← β2·v + (1−β2)·g²
//   p ← p − (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + eps)     bc = 1 − β^t (eps after the correction)
// p, m, v are updated in place. Thread mapping: one invocation per element.
// Bindings: 1 = p, 2 = grad, 3 = m, 4 = v, 5 = gscale (1 value).
struct Params { n: u32, lr: f32, beta1: f32, beta2: f32, eps: f32, wd: f32, bc1: f32, sqrtBc2: f32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> gscale: array<f32>;
#include "lib/grid.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= u.n) { return; }
  let g = grad[i] * gscale[0];
  var w = p[i] * (1.0 - u.lr * u.wd);
  let mi = u.beta1 * m[i] + (1.0 - u.beta1) * g;
  let vi = u.beta2 * v[i] + (1.0 - u.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  p[i] = w - (u.lr / u.bc1) * mi / (sqrt(vi) / u.sqrtBc2 + u.eps);
}
