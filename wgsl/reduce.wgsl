// reduce: the input viewed as [outer, R, inner] is reduced over R.
//   main   (OP 0 sum, 1 max):  out[o, i] = scale · Σ_r x[o, r, i]   or   max_r x[o, r, i]
//   argmax:                    idx[o, i] = first r with the largest x[o, r, i]
//   max_backward:              dx[o, r, i] = r == idx[o, i] ? dy[o, i] : 0
// Thread mapping: one invocation per output element walks its R values in registers — no
// workgroup memory, which is slow on lavapipe and keeps the kernel short to read.
// Bindings: main: 1 = x, 2 = out.  argmax: 1 = x, 2 = idx (i32).  max_backward: 1 = idx, 2 = dy, 3 = dx.
struct Params { outer: u32, R: u32, inner: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> idx_out: array<i32>;
@group(0) @binding(1) var<storage, read> idx: array<i32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
override OP: u32 = 0;
#include "lib/grid.wgsl"


@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = flat_id(gid, nwg);
  if (j >= p.outer * p.inner) { return; }
  let o = j / p.inner;
  let i = j % p.inner;
  let base = o * p.R * p.inner + i;
  if (OP == 0u) {
    var s = 0.0;
    for (var r = 0u; r < p.R; r++) { s += x[base + r * p.inner]; }
    out[j] = s * p.scale;
  } else {
    var m = x[base];
    for (var r = 1u; r < p.R; r++) { m = max(m, x[base + r * p.inner]); }
    out[j] = m;
  }
}

@compute @workgroup_size(WG)
fn argmax(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = flat_id(gid, nwg);
  if (j >= p.outer * p.inner) { return; }
  let base = (j / p.inner) * p.R * p.inner + j % p.inner;
  var m = x[base];
  var best = 0u;
  for (var r = 1u; r < p.R; r++) {
    let v = x[base + r * p.inner];
    if (v > m) { m = v; best = r; }
  }
  idx_out[j] = i32(best);
}

@compute @workgroup_size(WG)
fn max_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flat_id(gid, nwg);
  if (e >= p.outer * p.R * p.inner) { return; }
  let i = e % p.inner;
  let r = (e / p.inner) % p.R;
  let o = e / (p.inner * p.R);
  let j = o * p.inner + i;
  dx[e] = select(0.0, dy[j], u32(idx[j]) == r);
}
