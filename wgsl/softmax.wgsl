// softmax / log_softmax over the last axis (rows of length L), with masking by -inf.
//   softmax:      y = exp(x − max) / Σ exp(x − max)
//   log_softmax:  y = x − max − log Σ exp(x − max)
// A row that is entirely -inf (fully masked) gives zeros (not NaN), and zero gradient.
// backward:  softmax: dx = y ⊙ (dy − Σ dy⊙y);   log_softmax: dx = dy − exp(y) Σ dy.
// Thread mapping: one invocation per row, in registers (lavapipe-friendly, no barriers).
// main4 / backward4 do the same 4 columns at a time when L % 4 == 0: a CPU adapter runs each
// storage access as a loop over the lanes, so a vec4 access costs about what a scalar one does.
// Bindings: main: 1 = x, 2 = y.  backward: 1 = y, 2 = dy, 3 = dx.
struct Params { rows: u32, L: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4f>;
@group(0) @binding(2) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dx4: array<vec4f>;
override LOG: bool = false;
const LOWEST = bitcast<f32>(0xff7fffffu);   // −FLT_MAX: anything at or below it counts as masked
#include "lib/grid.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat_id(gid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.L;
  var m = LOWEST;
  var any = false;
  for (var j = 0u; j < p.L; j++) {
    let v = x[base + j];
    if (v > LOWEST) { any = true; m = max(m, v); }
  }
  if (!any) {
    for (var j = 0u; j < p.L; j++) { y[base + j] = 0.0; }
    return;
  }
  var s = 0.0;
  for (var j = 0u; j < p.L; j++) { s += exp(x[base + j] - m); }
  if (LOG) {
    let ls = m + log(s);
    for (var j = 0u; j < p.L; j++) { y[base + j] = x[base + j] - ls; }
  } else {
    let inv = 1.0 / s;
    for (var j = 0u; j < p.L; j++) { y[base + j] = exp(x[base + j] - m) * inv; }
  }
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat_id(gid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.L;
  var s = 0.0;
  if (LOG) {
    for (var j = 0u; j < p.L; j++) { s += dy[base + j]; }
    for (var j = 0u; j < p.L; j++) { dx[base + j] = dy[base + j] - exp(x[base + j]) * s; }
  } else {
    for (var j = 0u; j < p.L; j++) { s += dy[base + j] * x[base + j]; }
    for (var j = 0u; j < p.L; j++) { dx[base + j] = x[base + j] * (dy[base + j] - s); }
  }
}

@compute @workgroup_size(WG)
fn main4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat_id(gid, nwg);
  if (row >= p.rows) { return; }
  let base = row * (p.L / 4u);
  let n = p.L / 4u;
  var m = vec4f(LOWEST);
  for (var j = 0u; j < n; j++) { m = max(m, x4[base + j]); }
  let mx = max(max(m.x, m.y), max(m.z, m.w));
  if (mx <= LOWEST) {
    for (var j = 0u; j < n; j++) { y4[base + j] = vec4f(0.0); }
    return;
  }
  var s = vec4f(0.0);
  for (var j = 0u; j < n; j++) { s += exp(x4[base + j] - mx); }
  let total = s.x + s.y + s.z + s.w;
  if (LOG) {
    let ls = mx + log(total);
    for (var j = 0u; j < n; j++) { y4[base + j] = x4[base + j] - ls; }
  } else {
    let inv = 1.0 / total;
    for (var j = 0u; j < n; j++) { y4[base + j] = exp(x4[base + j] - mx) * inv; }
  }
}

@compute @workgroup_size(WG)
fn backward4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat_id(gid, nwg);
  if (row >= p.rows) { return; }
  let n = p.L / 4u;
  let base = row * n;
  var s4 = vec4f(0.0);
  if (LOG) {
    for (var j = 0u; j < n; j++) { s4 += dy4[base + j]; }
    let s = s4.x + s4.y + s4.z + s4.w;
    for (var j = 0u; j < n; j++) { dx4[base + j] = dy4[base + j] - exp(x4[base + j]) * s; }
  } else {
    for (var j = 0u; j < n; j++) { s4 += dy4[base + j] * x4[base + j]; }
    let s = s4.x + s4.y + s4.z + s4.w;
    for (var j = 0u; j < n; j++) { dx4[base + j] = x4[base + j] * (dy4[base + j] - s); }
  }
}
