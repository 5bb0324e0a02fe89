// im2col: unfolds conv1d input so the convolution becomes a batched matmul.
//   x [B, Cin, T]  →  cols [G, Cg·K, W],   Cg = Cin / G, rows of W ≥ B·Tout columns
//   cols[g, c·K + k, b·Tout + t] = x[b, g·Cg + c, t·stride + k − pad]   (0 outside [0, T))
//   and 0 in columns B·Tout … W−1 (rows padded so the matmul that follows needs no aligned copy)
// backward (col2im) gathers instead of scattering, so it needs no atomics and is deterministic:
//   dx[b, ci, s] = Σ_k cols[g, c·K + k, b·Tout + t]  over k with t = (s + pad − k) / stride integral, 0 ≤ t < Tout
// Thread mapping: main, one invocation per run of 8 consecutive t of one (row, b): the index is
// split once per run (integer division has no vector instruction on CPU adapters);
// backward, one invocation per element of dx.
// Bindings: main: 1 = x, 2 = cols.  backward: 1 = dcols, 2 = dx.
struct Params { B: u32, Cin: u32, T: u32, Tout: u32, K: u32, stride: u32, pad: u32, G: u32, W: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
#include "lib/grid.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  let runs = (p.Tout + 7u) / 8u;
  let rb = i / runs;                   // (g·Cg·K + c·K + k)·B + b
  if (rb >= p.Cin * p.K * p.B) { return; }
  let t0 = (i % runs) * 8u;
  let b = rb % p.B;
  let row = rb / p.B;                  // g·Cg·K + c·K + k
  let k = row % p.K;
  let gc = row / p.K;                  // g·Cg + c  == input channel
  let xBase = (b * p.Cin + gc) * p.T;
  let out = row * p.W + b * p.Tout;
  for (var t = t0; t < min(t0 + 8u, p.Tout); t++) {
    let s = i32(t * p.stride + k) - i32(p.pad);
    var v = 0.0;
    if (s >= 0 && u32(s) < p.T) { v = src[xBase + u32(s)]; }
    dst[out + t] = v;
  }
  // The row's last run also zeroes its padding columns.
  if (b == p.B - 1u && t0 + 8u >= p.Tout) {
    for (var c = p.B * p.Tout; c < p.W; c++) { dst[row * p.W + c] = 0.0; }
  }
}
@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.B * p.Cin * p.T) { return; }
  let s = i % p.T;
  let ci = (i / p.T) % p.Cin;
  let b = i / (p.T * p.Cin);
  let cols = p.W;
  var acc = 0.0;
  for (var k = 0u; k < p.K; k++) {
    let num = i32(s + p.pad) - i32(k);
    if (num < 0 || u32(num) % p.stride != 0u) { continue; }
    let t = u32(num) / p.stride;
    if (t >= p.Tout) { continue; }
    acc += src[(ci * p.K + k) * cols + b * p.Tout + t];
  }
  dst[i] = acc;
}
