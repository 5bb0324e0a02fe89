// matmul (portable tiled variant): C[z] = op(A[z]) · op(B[z]) for z in the batch.
//   op(A) is A (stored [M,K]) or Aᵀ (TA: stored [K,M]); op(B) is B ([K,N]) or Bᵀ (TB: [N,K]),
//   so transposed operands are read in place, never copied. Batch strides may be 0 (broadcast);
//   lda and ldb are the stored rows' strides (K, N or M for dense operands).
// Thread mapping: a 64×64 tile of C per workgroup of 16×16 invocations, each holding a 4×4
// register block; A and B tiles of depth 16 are staged in workgroup memory. This is what wins
// on real GPUs; on lavapipe workgroup memory and barriers are slow and matmul.subgroup.wgsl wins.
// Any sizes: out-of-range loads read 0, out-of-range stores are skipped. Epilogue as C is
// stored: C = act(op(A)·op(B) + bias[n]) + R (BIAS, ACT 0 = none / 1 = GELU, RESIDUAL; R has
// C's layout). Bindings: 1 = A, 2 = B, 3 = C, 4 = bias [N], 5 = R (any read-only buffer for
// those turned off).
struct Params { M: u32, N: u32, K: u32, lda: u32, aBatch: u32, bBatch: u32, cBatch: u32, ldb: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> res: array<f32>;
override TA: bool = false;
override BIAS: bool = false;
override ACT: u32 = 0;
override RESIDUAL: bool = false;
#include "lib/erf.wgsl"
override TB: bool = false;

const TILE = 64u;
const DEPTH = 16u;
var<workgroup> As: array<f32, 1024>;   // [DEPTH][TILE], k-major
var<workgroup> Bs: array<f32, 1024>;   // [DEPTH][TILE]

fn loadA(base: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  if (TA) { return A[base + k * p.lda + m]; }
  return A[base + m * p.lda + k];
}
fn loadB(base: u32, k: u32, n: u32) -> f32 {
  if (n >= p.N || k >= p.K) { return 0.0; }
  if (TB) { return B[base + n * p.ldb + k]; }
  return B[base + k * p.ldb + n];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let aBase = wid.z * p.aBatch;
  let bBase = wid.z * p.bBatch;
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;
  let t = lid.y * 16u + lid.x;           // 0..255
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += DEPTH) {
    // 256 invocations stage 1024 values of each tile: 4 each.
    for (var e = 0u; e < 4u; e++) {
      let idx = t + e * 256u;
      let kk = idx / TILE;
      let mm = idx % TILE;
      As[idx] = loadA(aBase, row0 + mm, k0 + kk);
      Bs[idx] = loadB(bBase, k0 + kk, col0 + mm);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < DEPTH; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        a[i] = As[kk * TILE + lid.y * 4u + i];
        b[i] = Bs[kk * TILE + lid.x * 4u + i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i][j] += a[i] * b[j]; }
      }
    }
    workgroupBarrier();
  }
  let cBase = wid.z * p.cBatch;
  for (var i = 0u; i < 4u; i++) {
    let m = row0 + lid.y * 4u + i;
    if (m >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let n = col0 + lid.x * 4u + j;
      if (n >= p.N) { continue; }
      var v = acc[i][j];
      if (BIAS) { v += bias[n]; }
      if (ACT == 1u) { v = gelu_(v); }
      if (RESIDUAL) { v += res[cBase + m * p.N + n]; }
      C[cBase + m * p.N + n] = v;
    }
  }
}
