// fill: out[i] = value + step * i   (zeros, ones, full, arange)
// Thread mapping: one invocation per element; the 1-D index folds gid.y for launches past
// 65535 workgroups. Bindings: 1 = out (f32 in `main`, i32 in `main_i32`).
struct Params { n: u32, value: f32, step: f32, ivalue: i32, istep: i32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out_f: array<f32>;
@group(0) @binding(1) var<storage, read_write> out_i: array<i32>;
#include "lib/grid.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  out_f[i] = p.value + p.step * f32(i);
}

@compute @workgroup_size(WG)
fn main_i32(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  out_i[i] = p.ivalue + p.istep * i32(i);
}
