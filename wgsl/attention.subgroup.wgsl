// attention (subgroup variant, for CPU adapters such as lavapipe): the same forward as
// attention.wgsl (online softmax, no T×S scores in memory, saves lse), computed in blocks of
// 8 query rows × 32 keys by one 8-invocation workgroup, the way matmul.subgroup shares loads:
//   scores: lane l owns keys 4l..4l+3 of the block; per 4 dims it loads those keys' 4×4 values
//           (4 rows of K, transposed in registers) and gets each query row's 4 values from the
//           lane that loaded them (subgroupBroadcast), so every load feeds 8 rows;
//   softmax: per row, subgroupMax / subgroupAdd over the 8 lanes update the running max m and
//           sum l; the block's scores become probabilities in place;
//   P·V:    lane l owns Dh/8 contiguous dims of the output (NC = Dh/32 vec4); per key it loads
//           its slice of v once and adds it to 8 rows, each weighted by that row's probability
//           shuffled from the lane that owns the key.
// Why broadcast in one place and shuffle in the other: broadcasts need a constant lane, and
// unrolling the P·V loop over 8 constant lanes made lavapipe compile for ~15 s per entry point
// (vs ~3 s); in the score loop the broadcasts are 2× faster than shuffles and cheap to compile.
// On lavapipe a storage load costs about as much as a multiply-add, so sharing loads is what
// makes this fast; workgroup memory and barriers are slow there, so none are used.
// A row whose keys are all masked gives O = 0 and lse = −FLT_MAX, as in attention.wgsl.
// Backward (P recomputed from the saved lse; Dr_i = Σ_d dO_id·O_id from attention.wgsl's row_dot),
// two ways, chosen by src/kernels/attention.ts:
//   ds:  the T×S matrices written out, for the engine's matmuls to finish: per 8 query rows ×
//        32 keys, S = Q·Kᵀ and dP = dO·Vᵀ as above, P = exp(S·scale + bias − lse) and
//        dS = P ⊙ (dP − Dr); writes P and scale·dS (and dS as d(bias) when wanted). Then
//        dV = Pᵀ·dO, dQ = (scale·dS)·K, dK = (scale·dS)ᵀ·Q are three plain matmuls. P and dS
//        are stored Tp × Sp (T and S rounded up to multiples of 4, zeros beyond), so those
//        products sum over whole vec4s without padded copies of the T×S matrices.
//   dq + dkv, streaming (nothing T×S in memory, for long sequences):
//   dq:  8 query rows × 32-key blocks as in ds; dQ += scale · dS·K, with dS shuffled like P;
//   dkv: the mirror, 8 keys × 32-query blocks: Sᵀ = K·Qᵀ, dPᵀ = V·dOᵀ,
//        dV += Pᵀ·dO, dK += scale · dSᵀ·Q.
// Rows, step and stepT come from lib/rows8.wgsl (included below).
#include "lib/rows8.wgsl"
struct Params {
  B: u32, H: u32, T: u32, S: u32,
  Dh: u32, hasBias: u32, hasMask: u32, Tp: u32,      // Tp, Sp: ds's P and dS stored [B·H, Tp, Sp]
  biasB: u32, biasH: u32, scale: f32, blocks: u32,   // blocks of 8 rows per (b, h): queries, or keys in dkv
  _p1: u32, wantBiasGrad: u32, lanes: u32, Sp: u32,   // lanes = 8: a uniform, so the compiler keeps the lane loop rolled
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4f>;
@group(0) @binding(2) var<storage, read> k: array<vec4f>;
@group(0) @binding(3) var<storage, read> v: array<vec4f>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> mask: array<f32>;
@group(0) @binding(6) var<storage, read_write> o: array<vec4f>;
@group(0) @binding(7) var<storage, read> lse_in: array<f32>;
@group(0) @binding(7) var<storage, read_write> lse: array<f32>;
// backward
@group(0) @binding(8) var<storage, read> dO: array<vec4f>;
@group(0) @binding(9) var<storage, read> Dr: array<f32>;
@group(0) @binding(10) var<storage, read_write> dQ: array<vec4f>;   // dq
@group(0) @binding(10) var<storage, read_write> dK: array<vec4f>;   // dkv
@group(0) @binding(10) var<storage, read_write> P: array<f32>;      // ds: [B·H, T, S]
@group(0) @binding(11) var<storage, read_write> dV: array<vec4f>;   // dkv
@group(0) @binding(11) var<storage, read_write> dS: array<f32>;     // ds: scale · dS
@group(0) @binding(12) var<storage, read_write> dBias: array<f32>;  // dq, ds: dS, [B·H, T, S]
override NC: u32 = 2u;   // vec4 chunks of an output row per lane: Dh / 32 (1..4)
const NEG_INF = bitcast<f32>(0xff7fffffu);

// Key j of batch item b takes part: inside the sequence and not padding.
fn keyValid(b: u32, j: u32) -> bool {
  return j < p.S && (p.hasMask == 0u || mask[b * p.S + j] == 0.0);
}

fn biasAt(b: u32, h: u32, t: u32, j: u32) -> f32 {
  if (p.hasBias == 0u || j >= p.S) { return 0.0; }
  return bias[b * p.biasB + h * p.biasH + t * p.S + j];
}

// One vec4 of an operand. `which` is a constant at every call (0 v, 1 k, 2 q, 3 dO), so the
// switch folds away.
fn load(which: u32, i: u32) -> vec4f {
  switch which {
    case 0u: { return v[i]; }
    case 1u: { return k[i]; }
    case 2u: { return q[i]; }
    default: { return dO[i]; }
  }
}

// Offsets (in vec4) of rows j..j+3 of a [B·H·n, Dh] operand whose (b, h) starts at row row0,
// clamped to its last row (the clamped rows' weights are 0).
fn rowsAt(row0: u32, j: u32, n: u32) -> vec4u {
  return (vec4u(row0) + min(vec4u(j, j + 1u, j + 2u, j + 3u), vec4u(n - 1u))) * (p.Dh / 4u);
}

// acc[r] += (row r's 4 values a, from lane r) · (this lane's 4 operand rows at dims 4·d4..4·d4+3).
fn stepRows(acc: Rows, a: vec4f, which: u32, rows: vec4u, d4: u32) -> Rows {
  return stepT(acc, a, load(which, rows.x + d4), load(which, rows.y + d4), load(which, rows.z + d4), load(which, rows.w + d4));
}

// acc[r·4 + c] += Σ_j w[r, j] · x_j[c] over a block's 32 operand rows j0..j0+31 (lane src holds
// w for rows 4·src..4·src+3): 8 rows × this lane's NC chunks. One chunk at a time: with every
// chunk's accumulators live, lavapipe spilled and the forward took 1.4× as long.
fn pv(acc: ptr<function, array<vec4f, 32>>, w: Rows, which: u32, row0: u32, j0: u32, n: u32, lane: u32) {
  for (var ch = 0u; ch < NC; ch++) {
    for (var src = 0u; src < p.lanes; src++) {
      let ws = fromLane(w, src);
      let rows = rowsAt(row0, j0 + 4u * src, n);
      for (var kk = 0u; kk < 4u; kk++) {
        let xv = load(which, rows[kk] + lane * NC + ch);
        for (var r = 0u; r < 8u; r++) { (*acc)[r * 4u + ch] += ws[r][kk] * xv; }
      }
    }
  }
}

// The 8 rows' values for the 4 columns of lane `src`, on every lane.
fn fromLane(s: Rows, src: u32) -> Rows {
  var o = Rows();
  for (var r = 0u; r < 8u; r++) { o[r] = subgroupShuffle(s[r], src); }
  return o;
}

// Block coordinates: which (b·H + h) and which 8 rows (queries, or keys in dkv) this workgroup owns.
struct Block { bh: u32, r0: u32, b: u32, h: u32 }
fn block(wid: vec3u, nwg: vec3u) -> Block {
  let blk = min(wid.x + wid.y * nwg.x, p.B * p.H * p.blocks - 1u);
  let bh = blk / p.blocks;
  return Block(bh, (blk % p.blocks) * 8u, bh / p.H, bh % p.H);
}

// Query t's scores against this lane's 4 keys jl..jl+3, scaled, with the bias.
fn scaled(sr: vec4f, b: u32, h: u32, t: u32, jl: u32) -> vec4f {
  return sr * p.scale + vec4f(biasAt(b, h, t, jl), biasAt(b, h, t, jl + 1u), biasAt(b, h, t, jl + 2u), biasAt(b, h, t, jl + 3u));
}
fn keysValid(b: u32, jl: u32) -> vec4<bool> {
  return vec4<bool>(keyValid(b, jl), keyValid(b, jl + 1u), keyValid(b, jl + 2u), keyValid(b, jl + 3u));
}

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(subgroup_invocation_id) lane: u32) {
  let c = block(wid, nwg);
  let t0 = c.r0;
  let n4 = p.Dh / 4u;
  let qBase = (c.bh * p.T + min(t0 + lane, p.T - 1u)) * n4;   // this lane loads row t0 + lane of Q
  var m: array<f32, 8>;
  var l: array<f32, 8>;
  var acc: array<vec4f, 32>;                 // [row r][chunk c] at r·4 + c
  for (var r = 0u; r < 8u; r++) { m[r] = NEG_INF; l[r] = 0.0; }
  for (var i = 0u; i < 32u; i++) { acc[i] = vec4f(0.0); }

  for (var j0 = 0u; j0 < p.S; j0 += 32u) {
    let jl = j0 + 4u * lane;                 // this lane's 4 keys
    let kr = rowsAt(c.bh * p.S, jl, p.S);
    var s = Rows();
    for (var d4 = 0u; d4 < n4; d4++) { s = stepRows(s, q[qBase + d4], 1u, kr, d4); }
    let valid = keysValid(c.b, jl);
    for (var r = 0u; r < 8u; r++) {
      let sr = scaled(s[r], c.b, c.h, min(t0 + r, p.T - 1u), jl);
      let big = select(vec4f(NEG_INF), sr, valid);
      let mNew = max(m[r], subgroupMax(max(max(big.x, big.y), max(big.z, big.w))));
      let cr = exp(m[r] - mNew);             // 1 while every key so far is masked (acc, l are 0)
      let pr = select(vec4f(0.0), exp(sr - mNew), valid);
      l[r] = l[r] * cr + subgroupAdd(pr.x + pr.y + pr.z + pr.w);
      m[r] = mNew;
      s[r] = pr;
      for (var ch = 0u; ch < NC; ch++) { acc[r * 4u + ch] *= cr; }
    }
    // P·V, four keys at a time, from the lane that owns them.
    pv(&acc, s, 0u, c.bh * p.S, j0, p.S, lane);
  }

  for (var r = 0u; r < 8u; r++) {
    if (t0 + r >= p.T) { break; }
    let inv = select(0.0, 1.0 / l[r], l[r] > 0.0);
    let ob = (c.bh * p.T + t0 + r) * n4 + lane * NC;
    for (var ch = 0u; ch < NC; ch++) { o[ob + ch] = acc[r * 4u + ch] * inv; }
  }
  if (t0 + lane < p.T) {
    lse[c.bh * p.T + t0 + lane] = select(NEG_INF, m[lane] + log(l[lane]), l[lane] > 0.0);
  }
}

// dS for 8 query rows (t0..t0+7) × this lane's 4 keys jl..jl+3, recomputed from Q, K, V, dO,
// lse and Dr; `pOut` gets P.
fn dsBlock(c: Block, t0: u32, jl: u32, lane: u32, pOut: ptr<function, Rows>) -> Rows {
  let n4 = p.Dh / 4u;
  let mine = (c.bh * p.T + min(t0 + lane, p.T - 1u)) * n4;   // row t0 + lane of Q and dO
  let kr = rowsAt(c.bh * p.S, jl, p.S);
  var s = Rows();
  var dp = Rows();
  // Two loops, not one: 16 live accumulators instead of 8 spilled and took 1.7× as long on lavapipe.
  for (var d4 = 0u; d4 < n4; d4++) { s = stepRows(s, q[mine + d4], 1u, kr, d4); }
  for (var d4 = 0u; d4 < n4; d4++) { dp = stepRows(dp, dO[mine + d4], 0u, kr, d4); }
  let valid = keysValid(c.b, jl);
  for (var r = 0u; r < 8u; r++) {
    let i = c.bh * p.T + min(t0 + r, p.T - 1u);
    let pr = select(vec4f(0.0), exp(scaled(s[r], c.b, c.h, min(t0 + r, p.T - 1u), jl) - lse_in[i]), valid);
    (*pOut)[r] = pr;
    dp[r] = pr * (dp[r] - Dr[i]);
  }
  return dp;
}


// Index of (query t0 + r, key jl + kk) in a [B·H, T, S] matrix, or none past T or S.
fn blockAt(c: Block, t0: u32, r: u32, jl: u32, kk: u32) -> i32 {
  if (t0 + r >= p.T || jl + kk >= p.S) { return -1; }
  return i32((c.bh * p.T + t0 + r) * p.S + jl + kk);
}

@compute @workgroup_size(8)
fn ds(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
      @builtin(subgroup_invocation_id) lane: u32) {
  let c = block(wid, nwg);
  for (var j0 = 0u; j0 < p.S; j0 += 32u) {
    let jl = j0 + 4u * lane;
    var pr = Rows();
    let g = dsBlock(c, c.r0, jl, lane, &pr);
    for (var r = 0u; r < 8u; r++) {
      for (var kk = 0u; kk < 4u; kk++) {
        let t = c.r0 + r;
        let j = jl + kk;
        if (t >= p.Tp || j >= p.Sp) { continue; }
        // P and dS rows and columns past T and S (padding to Tp, Sp) hold zeros.
        let inside = t < p.T && j < p.S;
        let i = (c.bh * p.Tp + t) * p.Sp + j;
        P[i] = select(0.0, pr[r][kk], inside);
        dS[i] = select(0.0, g[r][kk] * p.scale, inside);
        if (p.wantBiasGrad == 1u && inside) { dBias[blockAt(c, c.r0, r, jl, kk)] = g[r][kk]; }
      }
    }
  }
}

@compute @workgroup_size(8)
fn dq(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
      @builtin(subgroup_invocation_id) lane: u32) {
  let c = block(wid, nwg);
  let t0 = c.r0;
  var acc: array<vec4f, 32>;
  for (var i = 0u; i < 32u; i++) { acc[i] = vec4f(0.0); }
  for (var j0 = 0u; j0 < p.S; j0 += 32u) {
    let jl = j0 + 4u * lane;
    var pr = Rows();
    let g = dsBlock(c, t0, jl, lane, &pr);
    if (p.wantBiasGrad == 1u) {
      for (var r = 0u; r < 8u; r++) {
        for (var kk = 0u; kk < 4u; kk++) {
          let i = blockAt(c, t0, r, jl, kk);
          if (i >= 0) { dBias[i] = g[r][kk]; }
        }
      }
    }
    pv(&acc, g, 1u, c.bh * p.S, j0, p.S, lane);
  }
  for (var r = 0u; r < 8u; r++) {
    if (t0 + r >= p.T) { break; }
    let ob = (c.bh * p.T + t0 + r) * (p.Dh / 4u) + lane * NC;
    for (var ch = 0u; ch < NC; ch++) { dQ[ob + ch] = acc[r * 4u + ch] * p.scale; }
  }
}

@compute @workgroup_size(8)
fn dkv(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
       @builtin(subgroup_invocation_id) lane: u32) {
  let c = block(wid, nwg);
  let j0 = c.r0;                             // this workgroup's 8 keys
  let n4 = p.Dh / 4u;
  let mine = (c.bh * p.S + min(j0 + lane, p.S - 1u)) * n4;   // key j0 + lane of K and V
  var keyOk: array<bool, 8>;
  for (var r = 0u; r < 8u; r++) { keyOk[r] = keyValid(c.b, j0 + r); }
  var dv: array<vec4f, 32>;
  var dk: array<vec4f, 32>;
  for (var i = 0u; i < 32u; i++) { dv[i] = vec4f(0.0); dk[i] = vec4f(0.0); }
  let rowOf = c.bh * p.T;
  for (var i0 = 0u; i0 < p.T; i0 += 32u) {
    let il = i0 + 4u * lane;                 // this lane's 4 queries
    let qr = rowsAt(rowOf, il, p.T);
    var s = Rows();
    var dp = Rows();
    for (var d4 = 0u; d4 < n4; d4++) { s = stepRows(s, k[mine + d4], 2u, qr, d4); }
    for (var d4 = 0u; d4 < n4; d4++) { dp = stepRows(dp, v[mine + d4], 3u, qr, d4); }
    let qi = min(vec4u(il, il + 1u, il + 2u, il + 3u), vec4u(p.T - 1u));
    let Lq = vec4f(lse_in[rowOf + qi.x], lse_in[rowOf + qi.y], lse_in[rowOf + qi.z], lse_in[rowOf + qi.w]);
    let Dq = vec4f(Dr[rowOf + qi.x], Dr[rowOf + qi.y], Dr[rowOf + qi.z], Dr[rowOf + qi.w]);
    let qOk = vec4u(il, il + 1u, il + 2u, il + 3u) < vec4u(p.T);
    for (var r = 0u; r < 8u; r++) {
      let j = min(j0 + r, p.S - 1u);
      let sr = s[r] * p.scale + vec4f(biasAt(c.b, c.h, qi.x, j), biasAt(c.b, c.h, qi.y, j), biasAt(c.b, c.h, qi.z, j), biasAt(c.b, c.h, qi.w, j));
      let pr = select(vec4f(0.0), exp(sr - Lq), qOk & vec4<bool>(keyOk[r]));
      s[r] = pr;
      dp[r] = pr * (dp[r] - Dq);            // dSᵀ
    }
    pv(&dv, s, 3u, rowOf, i0, p.T, lane);
    pv(&dk, dp, 2u, rowOf, i0, p.T, lane);
  }
  for (var r = 0u; r < 8u; r++) {
    if (j0 + r >= p.S) { break; }
    let ob = (c.bh * p.S + j0 + r) * n4 + lane * NC;
    for (var ch = 0u; ch < NC; ch++) {
      dK[ob + ch] = dk[r * 4u + ch] * p.scale;
      dV[ob + ch] = dv[r * 4u + ch];
    }
  }
}
