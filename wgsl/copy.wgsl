// copy: one strided copy for permute/transpose, slice, broadcast, pad and concat.
// Iterates over an index space `shape` (up to 8 dims). For index i_d:
//   src = srcOff + Σ (i_d − lo_d) · ss_d      valid when lo_d ≤ i_d < hi_d for all d
//   dst = dstOff + Σ i_d · ds_d               out[dst] = valid ? in[src] : padValue
// permute: ss permuted; slice: srcOff + steps; broadcast: ss = 0; pad: lo/hi; concat: dstOff.
// Data is copied as raw 32-bit words, so one kernel serves f32, i32 and u32.
// Each invocation copies a run of `run` consecutive elements along the last dimension (32 on
// CPU adapters, 8 on GPUs; see copy.ts): the index is split into coordinates once per run, not
// once per element. Integer division has no vector instruction on a CPU adapter: one split per
// element made permutes ~3× slower than runs of 8, and runs of 32 are 1.5–2× faster again.
// Bindings: 1 = in, 2 = out.
struct Params {
  n: u32, ndim: u32, srcOff: u32, dstOff: u32,
  padValue: u32, usePad: u32, run: u32, runs: u32,   // elements per invocation; runs per row
  shape: array<vec4u, 2>,
  ss: array<vec4u, 2>,
  ds: array<vec4u, 2>,
  lo: array<vec4u, 2>,
  hi: array<vec4u, 2>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
#include "lib/grid.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);   // run index: n / run rounded up per row
  let last = p.ndim - 1u;
  let L = p.shape[last / 4u][last % 4u];
  var rem = i / p.runs;                 // row (all dimensions but the last)
  if (rem * L >= p.n) { return; }
  let c0 = (i % p.runs) * p.run;
  var si = p.srcOff;
  var di = p.dstOff;
  var valid = true;
  for (var d = i32(last) - 1; d >= 0; d--) {
    let s = p.shape[d / 4][d % 4];
    let c = rem % s;
    rem = rem / s;
    let lo = p.lo[d / 4][d % 4];
    if (p.usePad == 1u && (c < lo || c >= p.hi[d / 4][d % 4])) { valid = false; }
    si += (c - lo) * p.ss[d / 4][d % 4];
    di += c * p.ds[d / 4][d % 4];
  }
  let ssL = p.ss[last / 4u][last % 4u];
  let dsL = p.ds[last / 4u][last % 4u];
  let loL = p.lo[last / 4u][last % 4u];
  let hiL = p.hi[last / 4u][last % 4u];
  for (var j = 0u; j < p.run; j++) {
    let c = c0 + j;
    if (c >= L) { break; }
    let ok = valid && (p.usePad == 0u || (c >= loL && c < hiL));
    if (ok) { dst[di + c * dsL] = src[si + (c - loL) * ssL]; } else { dst[di + c * dsL] = p.padValue; }
  }
}
