// matmul (subgroup variant, fastest on lavapipe): C[z] = op(A[z]) · op(B[z]).
// Needs K % 4 == 0, N % 4 == 0 and subgroups of at least 8 lanes.
// Thread mapping: each invocation computes ROWS (8 or 16) rows × 4 columns of C, in one or two
// blocks of 8 vec4 accumulators. All invocations of a workgroup share the same rows. Per step
// of 4 along k, lane l loads one vec4 of A per block (row l % 8 of it) and hands it to the other
// lanes with subgroupBroadcast, and loads 4 vec4 of B for its own 4 columns. On lavapipe every
// storage load is a scalar loop over the lanes, so sharing A through the subgroup instead of
// loading it 8 times is what makes this fast; 16 rows let each B load feed twice the rows
// (≈ 1.2× faster on 1024×3072×768; 32 rows spilled and ran at 0.7×). ROWS = 8 for M ≤ 8.
// Entry points: nn (A [M,K], B [K,N]); nt (B stored [N,K], e.g. a Linear weight); tn (A stored [K,M]).
// tn4 is tn for M, lda and the batch stride multiples of 4: lane 2i + h loads A[k + i, m0 + 4h ..
// 4h + 3] as one vec4, so the 8 lanes hold the block's 8 rows × 4 k, and each row's 4 values are
// gathered from 4 lanes (tn loads 4 scalars per lane: 1.1-1.2× slower).
// lda and ldb are the stored rows' strides (K, N or M for dense operands; larger, or overlapping
// rows, for a matrix read in place from another layout); multiples of 4 where read as vec4.
// Epilogue, as C is stored (no second pass over C): C = act(op(A)·op(B) + bias[n]) + R, with
// BIAS, ACT (0 = none, 1 = GELU) and RESIDUAL (R has C's layout) as overrides.
// Bindings: 1 = A, 2 = B, 3 = C, 4 = bias [N], 5 = R (any read-only buffer for those turned off).
enable subgroups;
struct Params { M: u32, N: u32, K: u32, lda: u32, aBatch: u32, bBatch: u32, cBatch: u32, ldb: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A4: array<vec4f>;
@group(0) @binding(1) var<storage, read> A1: array<f32>;
@group(0) @binding(2) var<storage, read> B4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> C4: array<vec4f>;
@group(0) @binding(4) var<storage, read> bias4: array<vec4f>;
@group(0) @binding(5) var<storage, read> res4: array<vec4f>;
override WG: u32 = 64;
override BIAS: bool = false;
override ACT: u32 = 0;
override RESIDUAL: bool = false;
#include "lib/erf.wgsl"
override ROWS: u32 = 16;   // 8 or 16
// Strides other than the dense ones (lda ≠ K or M, ldb ≠ N or K) are read from the uniforms only
// when STRIDED: a dense product keeps one stride value live instead of two in its loop.
override STRIDED: bool = false;

// Rows k..k+3 of B at this lane's 4 columns.
struct Quad { b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f }
fn loadB(b: u32, ldb4: u32) -> Quad {
  return Quad(B4[b], B4[b + ldb4], B4[b + 2u * ldb4], B4[b + 3u * ldb4]);
}

// acc += a.x·b0 + a.y·b1 + a.z·b2 + a.w·b3, where b_i is row k+i of B at this lane's 4 columns.
fn mac(acc: vec4f, a: vec4f, q: Quad) -> vec4f {
  return acc + a.x * q.b0 + a.y * q.b1 + a.z * q.b2 + a.w * q.b3;
}

struct Acc { r0: vec4f, r1: vec4f, r2: vec4f, r3: vec4f, r4: vec4f, r5: vec4f, r6: vec4f, r7: vec4f }

// One k-step for all 8 rows: lane r's `a` is row r's 4 values along k.
fn step(s: Acc, a: vec4f, q: Quad) -> Acc {
  var o = s;
  o.r0 = mac(o.r0, subgroupBroadcast(a, 0u), q);
  o.r1 = mac(o.r1, subgroupBroadcast(a, 1u), q);
  o.r2 = mac(o.r2, subgroupBroadcast(a, 2u), q);
  o.r3 = mac(o.r3, subgroupBroadcast(a, 3u), q);
  o.r4 = mac(o.r4, subgroupBroadcast(a, 4u), q);
  o.r5 = mac(o.r5, subgroupBroadcast(a, 5u), q);
  o.r6 = mac(o.r6, subgroupBroadcast(a, 6u), q);
  o.r7 = mac(o.r7, subgroupBroadcast(a, 7u), q);
  return o;
}

// step() for tn's vec4 loads: row r's 4 values along k are component r % 4 of lanes h, 2 + h,
// 4 + h and 6 + h, where h = r / 4.
fn stepT(s: Acc, v: vec4f, q: Quad) -> Acc {
  var o = s;
  o.r0 = mac(o.r0, vec4f(subgroupBroadcast(v.x, 0u), subgroupBroadcast(v.x, 2u), subgroupBroadcast(v.x, 4u), subgroupBroadcast(v.x, 6u)), q);
  o.r1 = mac(o.r1, vec4f(subgroupBroadcast(v.y, 0u), subgroupBroadcast(v.y, 2u), subgroupBroadcast(v.y, 4u), subgroupBroadcast(v.y, 6u)), q);
  o.r2 = mac(o.r2, vec4f(subgroupBroadcast(v.z, 0u), subgroupBroadcast(v.z, 2u), subgroupBroadcast(v.z, 4u), subgroupBroadcast(v.z, 6u)), q);
  o.r3 = mac(o.r3, vec4f(subgroupBroadcast(v.w, 0u), subgroupBroadcast(v.w, 2u), subgroupBroadcast(v.w, 4u), subgroupBroadcast(v.w, 6u)), q);
  o.r4 = mac(o.r4, vec4f(subgroupBroadcast(v.x, 1u), subgroupBroadcast(v.x, 3u), subgroupBroadcast(v.x, 5u), subgroupBroadcast(v.x, 7u)), q);
  o.r5 = mac(o.r5, vec4f(subgroupBroadcast(v.y, 1u), subgroupBroadcast(v.y, 3u), subgroupBroadcast(v.y, 5u), subgroupBroadcast(v.y, 7u)), q);
  o.r6 = mac(o.r6, vec4f(subgroupBroadcast(v.z, 1u), subgroupBroadcast(v.z, 3u), subgroupBroadcast(v.z, 5u), subgroupBroadcast(v.z, 7u)), q);
  o.r7 = mac(o.r7, vec4f(subgroupBroadcast(v.w, 1u), subgroupBroadcast(v.w, 3u), subgroupBroadcast(v.w, 5u), subgroupBroadcast(v.w, 7u)), q);
  return o;
}

fn store(s: Acc, z: u32, m0: u32, col: u32) {
  let N4 = p.N / 4u;
  if (col >= N4) { return; }
  let base = z * p.cBatch / 4u + col;
  let rows = array<vec4f, 8>(s.r0, s.r1, s.r2, s.r3, s.r4, s.r5, s.r6, s.r7);
  var b = vec4f();
  if (BIAS) { b = bias4[col]; }
  for (var r = 0u; r < 8u; r++) {
    if (m0 + r >= p.M) { continue; }
    var v = rows[r] + b;
    if (ACT == 1u) { v = vec4f(gelu_(v.x), gelu_(v.y), gelu_(v.z), gelu_(v.w)); }
    if (RESIDUAL) { v += res4[base + (m0 + r) * N4]; }
    C4[base + (m0 + r) * N4] = v;
  }
}

@compute @workgroup_size(WG)
fn nn(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u,
      @builtin(subgroup_invocation_id) lane: u32) {
  let N4 = p.N / 4u;
  let col = min(gid.x, N4 - 1u);
  let m0 = wid.y * ROWS;
  let lda = select(p.K, p.lda, STRIDED);
  let aBase = (wid.z * p.aBatch + min(m0 + lane % 8u, p.M - 1u) * lda) / 4u;
  let aBase1 = (wid.z * p.aBatch + min(m0 + 8u + lane % 8u, p.M - 1u) * lda) / 4u;
  let bBase = wid.z * p.bBatch / 4u + col;
  let ldb4 = select(N4, p.ldb / 4u, STRIDED);
  var s: Acc;
  var s1: Acc;
  for (var k = 0u; k < p.K; k += 4u) {
    let q = loadB(bBase + k * ldb4, ldb4);
    s = step(s, A4[aBase + k / 4u], q);
    if (ROWS == 16u) { s1 = step(s1, A4[aBase1 + k / 4u], q); }
  }
  store(s, wid.z, m0, gid.x);
  if (ROWS == 16u) { store(s1, wid.z, m0 + 8u, gid.x); }
}

@compute @workgroup_size(WG)
fn nt(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u,
      @builtin(subgroup_invocation_id) lane: u32) {
  let N4 = p.N / 4u;
  let col = min(gid.x, N4 - 1u);
  let m0 = wid.y * ROWS;
  let lda = select(p.K, p.lda, STRIDED);
  let aBase = (wid.z * p.aBatch + min(m0 + lane % 8u, p.M - 1u) * lda) / 4u;
  let aBase1 = (wid.z * p.aBatch + min(m0 + 8u + lane % 8u, p.M - 1u) * lda) / 4u;
  let K4 = p.K / 4u;
  let ldb4 = select(K4, p.ldb / 4u, STRIDED);
  // Rows n0..n0+3 of the [N,K] operand; the 4×4 block is transposed in registers.
  let bBase = wid.z * p.bBatch / 4u + col * 4u * ldb4;
  var s: Acc;
  var s1: Acc;
  for (var k4 = 0u; k4 < K4; k4++) {
    let w0 = B4[bBase + k4];
    let w1 = B4[bBase + ldb4 + k4];
    let w2 = B4[bBase + 2u * ldb4 + k4];
    let w3 = B4[bBase + 3u * ldb4 + k4];
    let q = Quad(vec4f(w0.x, w1.x, w2.x, w3.x), vec4f(w0.y, w1.y, w2.y, w3.y), vec4f(w0.z, w1.z, w2.z, w3.z), vec4f(w0.w, w1.w, w2.w, w3.w));
    s = step(s, A4[aBase + k4], q);
    if (ROWS == 16u) { s1 = step(s1, A4[aBase1 + k4], q); }
  }
  store(s, wid.z, m0, gid.x);
  if (ROWS == 16u) { store(s1, wid.z, m0 + 8u, gid.x); }
}

@compute @workgroup_size(WG)
fn tn(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u,
      @builtin(subgroup_invocation_id) lane: u32) {
  let N4 = p.N / 4u;
  let col = min(gid.x, N4 - 1u);
  let m0 = wid.y * ROWS;
  let aBase = wid.z * p.aBatch + min(m0 + lane % 8u, p.M - 1u);      // A stored [K, M]
  let aBase1 = wid.z * p.aBatch + min(m0 + 8u + lane % 8u, p.M - 1u);
  let bBase = wid.z * p.bBatch / 4u + col;
  let ldb4 = select(N4, p.ldb / 4u, STRIDED);
  let lda = select(p.M, p.lda, STRIDED);
  var s: Acc;
  var s1: Acc;
  for (var k = 0u; k < p.K; k += 4u) {
    let q = loadB(bBase + k * ldb4, ldb4);
    s = step(s, vec4f(A1[aBase + k * lda], A1[aBase + (k + 1u) * lda], A1[aBase + (k + 2u) * lda], A1[aBase + (k + 3u) * lda]), q);
    if (ROWS == 16u) {
      s1 = step(s1, vec4f(A1[aBase1 + k * lda], A1[aBase1 + (k + 1u) * lda], A1[aBase1 + (k + 2u) * lda], A1[aBase1 + (k + 3u) * lda]), q);
    }
  }
  store(s, wid.z, m0, gid.x);
  if (ROWS == 16u) { store(s1, wid.z, m0 + 8u, gid.x); }
}

@compute @workgroup_size(WG)
fn tn4(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u,
       @builtin(subgroup_invocation_id) lane: u32) {
  let N4 = p.N / 4u;
  let col = min(gid.x, N4 - 1u);
  let m0 = wid.y * ROWS;
  let sub = lane % 8u;
  let lda4 = select(p.M, p.lda, STRIDED) / 4u;
  let M4 = p.M / 4u;
  let aRow = wid.z * p.aBatch / 4u + (sub / 2u) * lda4;   // A stored [K, M]
  let aBase = aRow + min(m0 / 4u + sub % 2u, M4 - 1u);
  let aBase1 = aRow + min(m0 / 4u + 2u + sub % 2u, M4 - 1u);
  let bBase = wid.z * p.bBatch / 4u + col;
  let ldb4 = select(N4, p.ldb / 4u, STRIDED);
  var s: Acc;
  var s1: Acc;
  for (var k = 0u; k < p.K; k += 4u) {
    let q = loadB(bBase + k * ldb4, ldb4);
    s = stepT(s, A4[aBase + k * lda4], q);
    if (ROWS == 16u) { s1 = stepT(s1, A4[aBase1 + k * lda4], q); }
  }
  store(s, wid.z, m0, gid.x);
  if (ROWS == 16u) { store(s1, wid.z, m0 + 8u, gid.x); }
}
