// embedding: out[n, :] = W[ids[n], :]  (a gather).
// backward: dW[v, :] = Σ_{n : ids[n] = v} dy[n, :], computed without atomics from a CSR list
// built on the host: for each distinct id u (uids[u]), the positions ptr[u]..ptr[u+1] of pos[].
// Rows not listed (and the padding row) stay 0. Deterministic: the sum order is fixed.
// Thread mapping: one invocation per output element.
// Bindings: main: 1 = W, 2 = ids, 3 = out.   backward: 1 = dy, 2 = uids, 3 = ptr, 4 = pos, 5 = dW.
// Tables above the storage-binding limit are processed in row chunks: W/dW are bound from row
// `first` on, `count` rows; ids outside the chunk are left to the other chunks' launches.
struct Params { n: u32, D: u32, unique: u32, first: u32, count: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> uids: array<i32>;
@group(0) @binding(3) var<storage, read> ptr: array<u32>;
@group(0) @binding(4) var<storage, read> pos: array<u32>;
@group(0) @binding(5) var<storage, read_write> dW: array<f32>;
#include "lib/grid.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n * p.D) { return; }
  let id = u32(ids[i / p.D]);
  if (id < p.first || id >= p.first + p.count) { return; }
  out[i] = W[(id - p.first) * p.D + i % p.D];
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.unique * p.D) { return; }
  let u = i / p.D;
  let d = i % p.D;
  let id = u32(uids[u]);
  if (id < p.first || id >= p.first + p.count) { return; }
  var s = 0.0;
  for (var j = ptr[u]; j < ptr[u + 1u]; j++) { s += dy[pos[j] * p.D + d]; }
  dW[(id - p.first) * p.D + d] = s;
}
