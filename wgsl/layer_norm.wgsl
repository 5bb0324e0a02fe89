// layer_norm over the last axis (rows of length D):
//   y = (x − μ) · rstd · w + b,   μ = mean(x),  rstd = 1/sqrt(var(x) + eps)   (biased variance)
// Saves μ and rstd per row for the backward.
// backward (per row):   x̂ = (x − μ)·rstd;  g = dy·w;  dx = rstd · (g − mean(g) − x̂ · mean(g·x̂))
// backward_params (per column c):  dw[c] = Σ_rows dy·x̂,  db[c] = Σ_rows dy
// AFFINE = false skips w and b (group_norm composes its own per-channel affine).
// group_cl: group norm with one channel per group over x [B, C, T] (normalized over T), its
// per-channel affine and, with ACT = 1, a GELU, written channels last: y [B, T, C]; saves μ and
// rstd per (b, c) row. x's rows may be stored W ≥ T long (the first T values count).
// group_cl_backward: its backward in one pass per row: with x̂ = (x − μ)·rstd and
// g = dy·GELU'(x̂·w + b) (dy read channels last), dx = rstd·w·(g − mean(g) − x̂·mean(g·x̂)) (0 in
// the padding), and the row's shares of dw and db, Σ g·x̂ and Σ g (summed over b afterwards). One pass where
// the composition takes five (norm, scale, shift, transpose, GELU); forward only (WavLM's first
// conv layer without gradients). One invocation per (b, c) row; the row is read three times,
// from cache.
// Thread mapping: one invocation per row (or column), two-pass statistics in registers.
// Bindings: main: 1 = x, 2 = w, 3 = b, 4 = y, 5 = stats (μ, rstd interleaved).
//           backward: 1 = x, 2 = w, 3 = stats, 4 = dy, 5 = dx.
//           backward_params: 1 = x, 3 = stats, 4 = dy, 6 = dw, 7 = db.
//           group_cl: 1-4 as main, 5 = stats; group_cl_backward: 1-3 as main, 6 = dy [B, T, C],
//           7 = stats, 8 = dx [B, C, W], 9 = dw, 10 = db (each [B, C]).
struct Params { rows: u32, D: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;
@group(0) @binding(3) var<storage, read> stats_in: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<storage, read> dy2: array<f32>;
@group(0) @binding(4) var<storage, read_write> dw: array<f32>;
@group(0) @binding(5) var<storage, read_write> db: array<f32>;
override AFFINE: bool = true;
struct GroupParams { B: u32, C: u32, T: u32, eps: f32, W: u32 }
@group(0) @binding(0) var<uniform> gp: GroupParams;
@group(0) @binding(6) var<storage, read> gdy: array<f32>;
@group(0) @binding(7) var<storage, read> gstats: array<f32>;
@group(0) @binding(8) var<storage, read_write> gdx: array<f32>;
@group(0) @binding(9) var<storage, read_write> gdw: array<f32>;
@group(0) @binding(10) var<storage, read_write> gdb: array<f32>;
override ACT: u32 = 0;
#include "lib/erf.wgsl"
#include "lib/grid.wgsl"

// Mean and 1/sqrt(var + eps) of x[base … base + n − 1] (two passes, biased variance).
fn row_stats(base: u32, n: u32, eps: f32) -> vec2f {
  var s = 0.0;
  for (var j = 0u; j < n; j++) { s += x[base + j]; }
  let mu = s / f32(n);
  var v = 0.0;
  for (var j = 0u; j < n; j++) { let d = x[base + j] - mu; v += d * d; }
  return vec2f(mu, inverseSqrt(v / f32(n) + eps));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat_id(gid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.D;
  let st = row_stats(base, p.D, p.eps);
  let mu = st.x;
  let rstd = st.y;
  for (var j = 0u; j < p.D; j++) {
    var o = (x[base + j] - mu) * rstd;
    if (AFFINE) { o = o * w[j] + b[j]; }
    y[base + j] = o;
  }
  stats[2u * row] = mu;
  stats[2u * row + 1u] = rstd;
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat_id(gid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.D;
  let mu = stats_in[2u * row];
  let rstd = stats_in[2u * row + 1u];
  var sg = 0.0;
  var sgx = 0.0;
  for (var j = 0u; j < p.D; j++) {
    var g = dy[base + j];
    if (AFFINE) { g *= w[j]; }
    sg += g;
    sgx += g * (x[base + j] - mu) * rstd;
  }
  let mg = sg / f32(p.D);
  let mgx = sgx / f32(p.D);
  for (var j = 0u; j < p.D; j++) {
    var g = dy[base + j];
    if (AFFINE) { g *= w[j]; }
    dx[base + j] = rstd * (g - mg - (x[base + j] - mu) * rstd * mgx);
  }
}

@compute @workgroup_size(WG)
fn backward_params(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.D) { return; }
  var sw = 0.0;
  var sb = 0.0;
  for (var r = 0u; r < p.rows; r++) {
    let g = dy2[r * p.D + c];
    sw += g * (x[r * p.D + c] - stats_in[2u * r]) * stats_in[2u * r + 1u];
    sb += g;
  }
  dw[c] = sw;
  db[c] = sb;
}

@compute @workgroup_size(WG)
fn group_cl(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat_id(gid, nwg);                 // b·C + c
  if (row >= gp.B * gp.C) { return; }
  let c = row % gp.C;
  let bi = row / gp.C;
  let base = row * gp.W;                       // rows stored W ≥ T long (a padded product)
  let st = row_stats(base, gp.T, gp.eps);
  stats[2u * row] = st.x;
  stats[2u * row + 1u] = st.y;
  let scale = st.y * w[c];
  let shift = b[c] - st.x * scale;
  let out = bi * gp.T * gp.C + c;
  for (var t = 0u; t < gp.T; t++) {
    var o = x[base + t] * scale + shift;
    if (ACT == 1u) { o = gelu_(o); }
    y[out + t * gp.C] = o;
  }
}

@compute @workgroup_size(WG)
fn group_cl_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat_id(gid, nwg);                 // b·C + c
  if (row >= gp.B * gp.C) { return; }
  let c = row % gp.C;
  let base = row * gp.W;
  let mu = gstats[2u * row];
  let rstd = gstats[2u * row + 1u];
  let wc = w[c];
  let bc = b[c];
  let dyBase = (row / gp.C) * gp.T * gp.C + c;
  var sg = 0.0;
  var sgx = 0.0;
  for (var t = 0u; t < gp.T; t++) {
    let xh = (x[base + t] - mu) * rstd;
    var g = gdy[dyBase + t * gp.C];
    if (ACT == 1u) { g *= gelu_grad_(xh * wc + bc); }
    sg += g;
    sgx += g * xh;
  }
  gdw[row] = sgx;
  gdb[row] = sg;
  let n = f32(gp.T);
  let k = rstd * wc;
  for (var t = 0u; t < gp.T; t++) {
    let xh = (x[base + t] - mu) * rstd;
    var g = gdy[dyBase + t * gp.C];
    if (ACT == 1u) { g *= gelu_grad_(xh * wc + bc); }
    gdx[base + t] = k * (g - sg / n - xh * sgx / n);
  }
  for (var t = gp.T; t < gp.W; t++) { gdx[base + t] = 0.0; }
}
