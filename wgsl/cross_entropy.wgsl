// cross_entropy: fused log-softmax + weighted NLL with ignore_index and label smoothing ε,
// exactly as torch.nn.functional.cross_entropy(logits, target, weight, ignore_index, label_smoothing):
//   nll_i    = −log p_i[y_i],   smooth_i = Σ_c w_c·(−log p_ic)
//   loss_i   = (1−ε)·w[y_i]·nll_i + (ε/C)·smooth_i            (0 for ignored rows)
//   loss     = Σ_i loss_i / Σ_i w[y_i]                         (mean reduction over non-ignored rows)
// main (one invocation per row): writes loss_i, w[y_i] and the row's logsumexp.
// backward (one invocation per element): with g = dL/dloss and W = Σ_i w[y_i],
//   dz_ic = g/W · [ (1−ε)·w[y_i]·(p_ic − 1[c = y_i]) + (ε/C)·(p_ic·Σ_c' w_c' − w_c) ]
// Bindings: main: 1 = logits, 2 = target (i32), 3 = weight, 4 = rowLoss, 5 = rowWeight, 6 = lse.
//           backward: 1 = logits, 2 = target, 3 = weight, 6 = lse (read), 7 = [g, W, Σ_c w_c], 8 = dlogits.
struct Params { N: u32, C: u32, ignore: i32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<i32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read_write> rowLoss: array<f32>;
@group(0) @binding(5) var<storage, read_write> rowW: array<f32>;
@group(0) @binding(6) var<storage, read_write> lse: array<f32>;
@group(0) @binding(6) var<storage, read> lseIn: array<f32>;
@group(0) @binding(7) var<storage, read> scale: array<f32>;    // [g, Σ_i w[y_i], Σ_c w_c]
@group(0) @binding(8) var<storage, read_write> dz: array<f32>;
#include "lib/grid.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.N) { return; }
  let base = i * p.C;
  var m = z[base];
  for (var c = 1u; c < p.C; c++) { m = max(m, z[base + c]); }
  var s = 0.0;
  for (var c = 0u; c < p.C; c++) { s += exp(z[base + c] - m); }
  let l = m + log(s);
  lse[i] = l;
  let t = y[i];
  if (t == p.ignore) {
    rowLoss[i] = 0.0;
    rowW[i] = 0.0;
    return;
  }
  let wy = w[u32(t)];
  var smoothSum = 0.0;
  if (p.eps > 0.0) {
    for (var c = 0u; c < p.C; c++) { smoothSum += w[c] * (l - z[base + c]); }
  }
  rowLoss[i] = (1.0 - p.eps) * wy * (l - z[base + u32(t)]) + p.eps / f32(p.C) * smoothSum;
  rowW[i] = wy;
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flat_id(gid, nwg);
  if (e >= p.N * p.C) { return; }
  let i = e / p.C;
  let c = e % p.C;
  let t = y[i];
  if (t == p.ignore || scale[1] == 0.0) { dz[e] = 0.0; return; }
  let pc = exp(z[e] - lseIn[i]);
  let onehot = select(0.0, 1.0, u32(t) == c);
  var d = (1.0 - p.eps) * w[u32(t)] * (pc - onehot);
  if (p.eps > 0.0) { d += p.eps / f32(p.C) * (pc * scale[2] - w[c]); }
  dz[e] = scale[0] / scale[1] * d;
}
