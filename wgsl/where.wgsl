// where: out = cond != 0 ? a : b, all three of the output's shape (the TS wrapper broadcasts).
// Bindings: 1 = cond (f32 0/1), 2 = a, 3 = b, 4 = out.
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> cond: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
#include "lib/grid.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  out[i] = select(b[i], a[i], cond[i] != 0.0);
}
