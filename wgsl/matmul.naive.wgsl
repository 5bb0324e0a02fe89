// matmul (naive variant): C[z] = op(A[z]) · op(B[z]), one invocation per element of C, a plain
// loop over k in registers. No workgroup memory and no barriers, so on CPU adapters (lavapipe)
// it beats the tiled kernel for shapes the subgroup kernel cannot take (K or N not a multiple
// of 4, or both operands transposed). Any sizes. Epilogue as C is stored:
// C = act(op(A)·op(B) + bias[n]) + R (BIAS, ACT 0 = none / 1 = GELU, RESIDUAL; R has C's layout).
// lda and ldb are the stored rows' strides (K, N or M for dense operands).
// Bindings: 1 = A, 2 = B, 3 = C, 4 = bias [N], 5 = R (any read-only buffer for those turned off).
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
#include "lib/grid.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flat_id(gid, nwg);     // element of one batch's C
  let z = gid.z;
  if (e >= p.M * p.N) { return; }
  let m = e / p.N;
  let n = e % p.N;
  let a0 = z * p.aBatch;
  let b0 = z * p.bBatch;
  // Strides of op(A) along k and of op(B) along k.
  let aStep = select(1u, p.lda, TA);
  let bStep = select(p.ldb, 1u, TB);
  var ai = a0 + select(m * p.lda, m, TA);
  var bi = b0 + select(n, n * p.ldb, TB);
  var s = 0.0;
  for (var k = 0u; k < p.K; k++) {
    s += A[ai] * B[bi];
    ai += aStep;
    bi += bStep;
  }
  if (BIAS) { s += bias[n]; }
  if (ACT == 1u) { s = gelu_(s); }
  if (RESIDUAL) { s += res[z * p.cBatch + e]; }
  C[z * p.cBatch + e] = s;
}
