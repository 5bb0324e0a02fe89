// attention (fused): O = softmax(Q Kᵀ·scale + bias, key padding mask) V for q [B,H,T,Dh],
// k, v [B,H,S,Dh]; Dh ≤ 128 and a multiple of 4.
// forward: one invocation per query row with an online softmax (running max m, running sum l,
//   rescaled accumulator), so no T×S score matrix is ever written. Saves lse = m + log l per row.
//   A row whose keys are all masked gives O = 0 and lse = −FLT_MAX (not NaN).
// backward (recomputes P_ij = exp(s_ij − lse_i) from the saved lse):
//   row_dot:  Dr_i = Σ_d dO_id·O_id
//   dq:       per query row: dS_ij = P_ij (dO_i·v_j − Dr_i);  dQ_i = scale Σ_j dS_ij k_j;
//             and dBias_ij = dS_ij when the bias needs a gradient (B×H×T×S, reduced by the caller)
//   dkv:      per key row: dV_j = Σ_i P_ij dO_i;  dK_j = scale Σ_i dS_ij q_i
// No atomics: each output row is owned by one invocation.
// Bias strides let one tensor serve (B,H,T,S), (1,H,T,S) and (1,1,T,S); mask is [B,S] f32 (1 = pad).
struct Params {
  B: u32, H: u32, T: u32, S: u32,
  Dh: u32, hasBias: u32, hasMask: u32, wantBiasGrad: u32,
  biasB: u32, biasH: u32, scale: f32, _p: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4f>;
@group(0) @binding(2) var<storage, read> k: array<vec4f>;
@group(0) @binding(3) var<storage, read> v: array<vec4f>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> mask: array<f32>;
@group(0) @binding(6) var<storage, read_write> o: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> lse: array<f32>;
// backward
@group(0) @binding(6) var<storage, read> oIn: array<vec4f>;
@group(0) @binding(7) var<storage, read> lseIn: array<f32>;
@group(0) @binding(8) var<storage, read> dO: array<vec4f>;
@group(0) @binding(9) var<storage, read_write> Dr: array<f32>;
@group(0) @binding(9) var<storage, read> DrIn: array<f32>;
@group(0) @binding(10) var<storage, read_write> dQ: array<vec4f>;
@group(0) @binding(11) var<storage, read_write> dBias: array<f32>;
@group(0) @binding(10) var<storage, read_write> dK: array<vec4f>;
@group(0) @binding(11) var<storage, read_write> dV: array<vec4f>;
#include "lib/grid.wgsl"
const MAXV = 32u;   // Dh / 4 ≤ 32
const NEG_INF = bitcast<f32>(0xff7fffffu);   // −FLT_MAX: "no key yet" / "fully masked row" (WGSL has no ∞ constants)


// Score of query row (bh, t) (its vectors in qv) against key j, before masking.
fn biasAt(b: u32, h: u32, t: u32, j: u32) -> f32 {
  if (p.hasBias == 0u) { return 0.0; }
  return bias[b * p.biasB + h * p.biasH + t * p.S + j];
}
fn masked(b: u32, j: u32) -> bool { return p.hasMask == 1u && mask[b * p.S + j] != 0.0; }

// Row r of a [B, H, L, ·] tensor: its position in the sequence, its (b·H + h) and b, h.
struct Coords { pos: u32, bh: u32, b: u32, h: u32 }
fn coords(r: u32, L: u32) -> Coords {
  let bh = r / L;
  return Coords(r % L, bh, bh / p.H, bh % p.H);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_id(gid, nwg);           // r = (b·H + h)·T + t
  if (r >= p.B * p.H * p.T) { return; }
  let n4 = p.Dh / 4u;
  let c = coords(r, p.T);
  let t = c.pos;
  let bh = c.bh;
  let b = c.b;
  let h = c.h;
  var qv: array<vec4f, MAXV>;
  var acc: array<vec4f, MAXV>;
  for (var d = 0u; d < n4; d++) { qv[d] = q[r * n4 + d] * p.scale; acc[d] = vec4f(0.0); }
  var m = NEG_INF;
  var l = 0.0;
  for (var j = 0u; j < p.S; j++) {
    if (masked(b, j)) { continue; }
    let kb = (bh * p.S + j) * n4;
    var s = 0.0;
    for (var d = 0u; d < n4; d++) { s += dot(qv[d], k[kb + d]); }
    s += biasAt(b, h, t, j);
    let mNew = max(m, s);
    let c = exp(m - mNew);          // exp(−∞) = 0 on the first key
    let e = exp(s - mNew);
    l = l * c + e;
    for (var d = 0u; d < n4; d++) { acc[d] = acc[d] * c + e * v[kb + d]; }
    m = mNew;
  }
  if (l == 0.0) {
    for (var d = 0u; d < n4; d++) { o[r * n4 + d] = vec4f(0.0); }
    lse[r] = NEG_INF;
    return;
  }
  let inv = 1.0 / l;
  for (var d = 0u; d < n4; d++) { o[r * n4 + d] = acc[d] * inv; }
  lse[r] = m + log(l);
}

@compute @workgroup_size(WG)
fn row_dot(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_id(gid, nwg);
  if (r >= p.B * p.H * p.T) { return; }
  let n4 = p.Dh / 4u;
  var s = 0.0;
  for (var d = 0u; d < n4; d++) { s += dot(dO[r * n4 + d], oIn[r * n4 + d]); }
  Dr[r] = s;
}

@compute @workgroup_size(WG)
fn dq(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_id(gid, nwg);
  if (r >= p.B * p.H * p.T) { return; }
  let n4 = p.Dh / 4u;
  let c = coords(r, p.T);
  let t = c.pos;
  let bh = c.bh;
  let b = c.b;
  let h = c.h;
  let L = lseIn[r];
  var qv: array<vec4f, MAXV>;
  var go: array<vec4f, MAXV>;
  var acc: array<vec4f, MAXV>;
  for (var d = 0u; d < n4; d++) { qv[d] = q[r * n4 + d] * p.scale; go[d] = dO[r * n4 + d]; acc[d] = vec4f(0.0); }
  let dr = DrIn[r];
  for (var j = 0u; j < p.S; j++) {
    var ds = 0.0;
    if (!masked(b, j) && L != NEG_INF) {
      let kb = (bh * p.S + j) * n4;
      var s = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < n4; d++) { s += dot(qv[d], k[kb + d]); dp += dot(go[d], v[kb + d]); }
      let P = exp(s + biasAt(b, h, t, j) - L);
      ds = P * (dp - dr);
      for (var d = 0u; d < n4; d++) { acc[d] += ds * k[kb + d]; }
    }
    if (p.wantBiasGrad == 1u) { dBias[r * p.S + j] = ds; }
  }
  for (var d = 0u; d < n4; d++) { dQ[r * n4 + d] = acc[d] * p.scale; }
}

@compute @workgroup_size(WG)
fn dkv(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = flat_id(gid, nwg);           // c = (b·H + h)·S + j
  if (c >= p.B * p.H * p.S) { return; }
  let n4 = p.Dh / 4u;
  let kc = coords(c, p.S);
  let j = kc.pos;
  let bh = kc.bh;
  let b = kc.b;
  let h = kc.h;
  var kv: array<vec4f, MAXV>;
  var vv: array<vec4f, MAXV>;
  var ak: array<vec4f, MAXV>;
  var av: array<vec4f, MAXV>;
  for (var d = 0u; d < n4; d++) { kv[d] = k[c * n4 + d]; vv[d] = v[c * n4 + d]; ak[d] = vec4f(0.0); av[d] = vec4f(0.0); }
  if (!masked(b, j)) {
    for (var t = 0u; t < p.T; t++) {
      let r = bh * p.T + t;
      let L = lseIn[r];
      if (L == NEG_INF) { continue; }
      var s = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < n4; d++) { s += dot(q[r * n4 + d], kv[d]); dp += dot(dO[r * n4 + d], vv[d]); }
      let P = exp(s * p.scale + biasAt(b, h, t, j) - L);
      let ds = P * (dp - DrIn[r]);
      for (var d = 0u; d < n4; d++) {
        av[d] += P * dO[r * n4 + d];
        ak[d] += ds * q[r * n4 + d];
      }
    }
  }
  for (var d = 0u; d < n4; d++) { dK[c * n4 + d] = ak[d] * p.scale; dV[c * n4 + d] = av[d]; }
}
