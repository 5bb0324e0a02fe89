// contrastive: the multi-positive contrastive loss (StableRep; what MLCS uses) and SupCon.
//   z_i = f_i / max(‖f_i‖, 1e-12);  s_ij = z_i·z_j / τ  (S = z zᵀ comes from the matmul kernel)
//   lse_i = log Σ_{j≠i} exp(s_ij);  P_i = #{j ≠ i : y_j = y_i}
//   loss_i = P_i > 0 ? −(1/P_i) Σ_{j≠i, y_j = y_i} (s_ij − lse_i) : 0
//   multi-positive: loss = Σ_i loss_i / N          SupCon ('exclude'): Σ_i loss_i / #{i : P_i > 0}
// (Both share loss_i; they differ only in the denominator.)
// Entry points, one invocation per row unless noted:
//   normalize:    z, inv = 1/max(‖f‖, 1e-12)
//   rows:         loss_i, P_i, lse_i from S
//   grad_logits:  (one per element) G_ij = D_ij + D_ji with D_ij = a_i·(softmax_ij − p_ij)/τ, j ≠ i,
//                 a_i = 1[P_i > 0] · g / denom, p_ij = 1[y_i = y_j]/P_i; then dz = G z (a matmul)
//   normalize_backward: df_i = inv_i · (dz_i − z_i (z_i·dz_i))   (dz_i·inv_i where the norm was clamped)
// Bindings: see each entry point's comment.
struct Params { N: u32, D: u32, invTau: f32 }
@group(0) @binding(0) var<uniform> p: Params;
// normalize: 1 = f, 2 = z, 3 = inv
@group(0) @binding(1) var<storage, read> f: array<f32>;
@group(0) @binding(2) var<storage, read_write> zOut: array<f32>;
@group(0) @binding(3) var<storage, read_write> invOut: array<f32>;
// rows: 1 = S, 2 = labels, 4 = lossRow, 5 = P (positive count), 6 = lse
@group(0) @binding(1) var<storage, read> S: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(4) var<storage, read_write> lossRow: array<f32>;
@group(0) @binding(5) var<storage, read_write> posOut: array<f32>;
@group(0) @binding(6) var<storage, read_write> lse: array<f32>;
// grad_logits: 1 = S, 2 = labels, 3 = lse, 4 = P, 5 = [g, denom], 6 = G
@group(0) @binding(3) var<storage, read> lseIn: array<f32>;
@group(0) @binding(4) var<storage, read> posIn: array<f32>;
@group(0) @binding(5) var<storage, read> gd: array<f32>;
@group(0) @binding(6) var<storage, read_write> G: array<f32>;
// normalize_backward: 1 = z, 2 = dz, 3 = inv, 4 = f, 6 = df
@group(0) @binding(1) var<storage, read> zIn: array<f32>;
@group(0) @binding(2) var<storage, read> dz: array<f32>;
@group(0) @binding(3) var<storage, read> invIn: array<f32>;
@group(0) @binding(4) var<storage, read> fIn: array<f32>;
@group(0) @binding(6) var<storage, read_write> df: array<f32>;
#include "lib/grid.wgsl"


@compute @workgroup_size(WG)
fn normalize(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.N) { return; }
  var s = 0.0;
  for (var d = 0u; d < p.D; d++) { let v = f[i * p.D + d]; s += v * v; }
  let inv = 1.0 / max(sqrt(s), 1e-12);
  for (var d = 0u; d < p.D; d++) { zOut[i * p.D + d] = f[i * p.D + d] * inv; }
  invOut[i] = inv;
}

@compute @workgroup_size(WG)
fn rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.N) { return; }
  let base = i * p.N;
  var m = -3.0e38;
  for (var j = 0u; j < p.N; j++) { if (j != i) { m = max(m, S[base + j] * p.invTau); } }
  var sum = 0.0;
  var pos = 0.0;
  var posLogit = 0.0;
  for (var j = 0u; j < p.N; j++) {
    if (j == i) { continue; }
    let s = S[base + j] * p.invTau;
    sum += exp(s - m);
    if (labels[j] == labels[i]) { pos += 1.0; posLogit += s; }
  }
  let l = m + log(sum);
  lse[i] = l;
  posOut[i] = pos;
  lossRow[i] = select(0.0, -(posLogit - pos * l) / max(pos, 1.0), pos > 0.0);
}

// D_ij for anchor i and column j (0 on the diagonal and for anchors without positives).
fn dterm(i: u32, j: u32) -> f32 {
  let P = posIn[i];
  if (i == j || P == 0.0) { return 0.0; }
  let sm = exp(S[i * p.N + j] * p.invTau - lseIn[i]);
  let pij = select(0.0, 1.0 / P, labels[i] == labels[j]);
  return gd[0] / gd[1] * (sm - pij) * p.invTau;
}

@compute @workgroup_size(WG)
fn grad_logits(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flat_id(gid, nwg);
  if (e >= p.N * p.N) { return; }
  let i = e / p.N;
  let j = e % p.N;
  G[e] = dterm(i, j) + dterm(j, i);
}

@compute @workgroup_size(WG)
fn normalize_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.N) { return; }
  let inv = invIn[i];
  var dot = 0.0;
  for (var d = 0u; d < p.D; d++) { dot += zIn[i * p.D + d] * dz[i * p.D + d]; }
  // Where ‖f‖ < 1e-12 the norm was clamped and z = f·1e12 is linear in f.
  var s = 0.0;
  for (var d = 0u; d < p.D; d++) { let v = fIn[i * p.D + d]; s += v * v; }
  let clamped = sqrt(s) < 1e-12;
  for (var d = 0u; d < p.D; d++) {
    let g = dz[i * p.D + d];
    df[i * p.D + d] = select(inv * (g - zIn[i * p.D + d] * dot), inv * g, clamped);
  }
}
