// dropout: y = x · keep / (1 − prob), keep = hash(seed, i) ≥ prob.
// The mask is a pure function of (seed, index) (PCG hash), so the backward recomputes it from
// the seed instead of storing it, and runs are reproducible. backward = the same op on dy.
// Thread mapping: one invocation per element. Bindings: 1 = x, 2 = y.
struct Params { n: u32, seed: u32, prob: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
#include "lib/grid.wgsl"

fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  let u = f32(pcg(i ^ pcg(p.seed)) >> 8u) / 16777216.0;   // uniform in [0, 1)
  y[i] = select(0.0, x[i] / (1.0 - p.prob), u >= p.prob);
}
