// frames: the backward of reading a channels-last signal's overlapping frames in place.
//   Forward (no kernel of its own): row t of the frame matrix of x [Z, L, C] is
//   x[z, t·hop … t·hop + K − 1, :], K·C values that start at element t·hop·C of sequence z, so
//   the matmul reads the matrix in place with row stride hop·C (src/kernels/frames.ts).
//   Backward (fold, overlap-add): the frame gradient d goes back to the samples:
//     dx[z, τ, c] = Σ d[z, t, j·C + c]  over frames t with j = τ − t·hop in [0, K).
//   It gathers, so it needs no atomics and is deterministic.
// A launch folds `n` frames r0 … r0 + n − 1 of `Zs` sequences z0 … z0 + Zs − 1 (src holds just
// those: [Zs, n, K·C]) into the samples they touch, τ0 … τ0 + span − 1: one launch for all of a
// small problem, or chunks of one sequence's frames (frame gradients over the binding limit),
// then adding to dx (ACC) instead of writing it.
// Thread mapping: one invocation per touched element of dx; its frames are the ones from
// t = τ / hop down while j < K (one integer division; at most ⌈K / hop⌉ frames).
// Bindings: 1 = d (frame gradient chunk), 2 = dx.
struct Params { L: u32, C: u32, K: u32, hop: u32, Zs: u32, z0: u32, r0: u32, n: u32, tau0: u32, span: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
override ACC: bool = false;
#include "lib/grid.wgsl"

@compute @workgroup_size(WG)
fn fold(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.Zs * p.span * p.C) { return; }
  let c = i % p.C;
  let q = i / p.C;
  let tau = p.tau0 + q % p.span;
  let zl = q / p.span;
  let row = p.K * p.C;
  var acc = 0.0;
  var t = min(tau / p.hop, p.r0 + p.n - 1u);
  loop {
    if (t < p.r0) { break; }
    let j = tau - t * p.hop;     // ≥ 0 since t·hop ≤ τ
    if (j >= p.K) { break; }
    acc += src[(zl * p.n + t - p.r0) * row + j * p.C + c];
    if (t == 0u) { break; }
    t--;
  }
  let o = ((p.z0 + zl) * p.L + tau) * p.C + c;
  if (ACC) { dst[o] += acc; } else { dst[o] = acc; }
}
