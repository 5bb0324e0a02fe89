// attention (subgroup variant, for CPU adapters such as lavapipe): the same forward as
// attention.wgsl (online softmax, no T×S scores in memory, saves lse), computed in blocks of
// 8 query rows × 32 keys by one 8-invocation workgroup, the way matmul.subgroup shares loads:
//   scores: lane l owns keys 4l..4l+3 of the block; per 4 dims it loads those keys' 4×4 values
//           from Kᵀ (pre-transposed [B·H, Dh, Sp], Sp a multiple of 32) and gets each query
//           row's 4 values from the lane that loaded them (subgroupShuffle), so every load
//           feeds 8 rows;
//   softmax: per row, subgroupMax / subgroupAdd over the 8 lanes update the running max m and
//           sum l; the block's scores become probabilities in place;
//   P·V:    lane l owns Dh/8 contiguous dims of the output (NC = Dh/32 vec4); per key it loads
//           its slice of v once and adds it to 8 rows, each weighted by that row's probability
//           shuffled from the lane that owns the key.
// On lavapipe a storage load costs about as much as a multiply-add, so sharing loads is what
// makes this fast; workgroup memory and barriers are slow there, so none are used.
// A row whose keys are all masked gives O = 0 and lse = −FLT_MAX, as in attention.wgsl.
// The backward reuses attention.wgsl's row_dot, dq and dkv (same O and lse).
enable subgroups;
struct Params {
  B: u32, H: u32, T: u32, S: u32,
  Dh: u32, hasBias: u32, hasMask: u32, Sp: u32,
  biasB: u32, biasH: u32, scale: f32, blocksT: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4f>;
@group(0) @binding(2) var<storage, read> kT: array<vec4f>;
@group(0) @binding(3) var<storage, read> v: array<vec4f>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> mask: array<f32>;
@group(0) @binding(6) var<storage, read_write> o: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> lse: array<f32>;
override NC: u32 = 2u;   // vec4 chunks of an output row per lane: Dh / 32 (1..4)
const NEG_INF = bitcast<f32>(0xff7fffffu);

// Key j of batch item b takes part: inside the sequence and not padding.
fn keyValid(b: u32, j: u32) -> bool {
  return j < p.S && (p.hasMask == 0u || mask[b * p.S + j] == 0.0);
}

// a·(k0, k1, k2, k3): one query row's 4 dims against 4 dims × this lane's 4 keys.
fn mac(a: vec4f, k0: vec4f, k1: vec4f, k2: vec4f, k3: vec4f) -> vec4f {
  return a.x * k0 + a.y * k1 + a.z * k2 + a.w * k3;
}

fn biasAt(b: u32, h: u32, t: u32, j: u32) -> f32 {
  if (p.hasBias == 0u || j >= p.S) { return 0.0; }
  return bias[b * p.biasB + h * p.biasH + t * p.S + j];
}

// acc[r·4 + c] += P[r, j..j+3] · v[j..j+3, this lane's chunk c], for the 8 rows r.
fn pv(acc: ptr<function, array<vec4f, 32>>, w: array<vec4f, 8>, vRow: u32, j: u32, lane: u32) {
  let n4 = p.Dh / 4u;
  for (var kk = 0u; kk < 4u; kk++) {
    let vb = (vRow + min(j + kk, p.S - 1u)) * n4 + lane * NC;   // past the end: weight 0
    for (var ch = 0u; ch < NC; ch++) {
      let vv = v[vb + ch];
      for (var r = 0u; r < 8u; r++) { (*acc)[r * 4u + ch] += w[r][kk] * vv; }
    }
  }
}

// The 8 rows' probabilities for the keys of lane L, on every lane.
alias Rows = array<vec4f, 8>;
fn fromLane0(s: Rows) -> Rows { return Rows(subgroupBroadcast(s[0], 0u), subgroupBroadcast(s[1], 0u), subgroupBroadcast(s[2], 0u), subgroupBroadcast(s[3], 0u), subgroupBroadcast(s[4], 0u), subgroupBroadcast(s[5], 0u), subgroupBroadcast(s[6], 0u), subgroupBroadcast(s[7], 0u)); }
fn fromLane1(s: Rows) -> Rows { return Rows(subgroupBroadcast(s[0], 1u), subgroupBroadcast(s[1], 1u), subgroupBroadcast(s[2], 1u), subgroupBroadcast(s[3], 1u), subgroupBroadcast(s[4], 1u), subgroupBroadcast(s[5], 1u), subgroupBroadcast(s[6], 1u), subgroupBroadcast(s[7], 1u)); }
fn fromLane2(s: Rows) -> Rows { return Rows(subgroupBroadcast(s[0], 2u), subgroupBroadcast(s[1], 2u), subgroupBroadcast(s[2], 2u), subgroupBroadcast(s[3], 2u), subgroupBroadcast(s[4], 2u), subgroupBroadcast(s[5], 2u), subgroupBroadcast(s[6], 2u), subgroupBroadcast(s[7], 2u)); }
fn fromLane3(s: Rows) -> Rows { return Rows(subgroupBroadcast(s[0], 3u), subgroupBroadcast(s[1], 3u), subgroupBroadcast(s[2], 3u), subgroupBroadcast(s[3], 3u), subgroupBroadcast(s[4], 3u), subgroupBroadcast(s[5], 3u), subgroupBroadcast(s[6], 3u), subgroupBroadcast(s[7], 3u)); }
fn fromLane4(s: Rows) -> Rows { return Rows(subgroupBroadcast(s[0], 4u), subgroupBroadcast(s[1], 4u), subgroupBroadcast(s[2], 4u), subgroupBroadcast(s[3], 4u), subgroupBroadcast(s[4], 4u), subgroupBroadcast(s[5], 4u), subgroupBroadcast(s[6], 4u), subgroupBroadcast(s[7], 4u)); }
fn fromLane5(s: Rows) -> Rows { return Rows(subgroupBroadcast(s[0], 5u), subgroupBroadcast(s[1], 5u), subgroupBroadcast(s[2], 5u), subgroupBroadcast(s[3], 5u), subgroupBroadcast(s[4], 5u), subgroupBroadcast(s[5], 5u), subgroupBroadcast(s[6], 5u), subgroupBroadcast(s[7], 5u)); }
fn fromLane6(s: Rows) -> Rows { return Rows(subgroupBroadcast(s[0], 6u), subgroupBroadcast(s[1], 6u), subgroupBroadcast(s[2], 6u), subgroupBroadcast(s[3], 6u), subgroupBroadcast(s[4], 6u), subgroupBroadcast(s[5], 6u), subgroupBroadcast(s[6], 6u), subgroupBroadcast(s[7], 6u)); }
fn fromLane7(s: Rows) -> Rows { return Rows(subgroupBroadcast(s[0], 7u), subgroupBroadcast(s[1], 7u), subgroupBroadcast(s[2], 7u), subgroupBroadcast(s[3], 7u), subgroupBroadcast(s[4], 7u), subgroupBroadcast(s[5], 7u), subgroupBroadcast(s[6], 7u), subgroupBroadcast(s[7], 7u)); }

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(subgroup_invocation_id) lane: u32) {
  let blk = wid.x + wid.y * nwg.x;          // (b·H + h)·blocksT + block
  if (blk >= p.B * p.H * p.blocksT) { return; }   // uniform over the workgroup
  let bh = blk / p.blocksT;
  let t0 = (blk % p.blocksT) * 8u;
  let b = bh / p.H;
  let h = bh % p.H;
  let n4 = p.Dh / 4u;
  let Sp4 = p.Sp / 4u;
  let qBase = (bh * p.T + min(t0 + lane, p.T - 1u)) * n4;   // this lane loads row t0 + lane of Q
  let kBase = bh * p.Dh * Sp4;
  var m: array<f32, 8>;
  var l: array<f32, 8>;
  var acc: array<vec4f, 32>;                 // [row r][chunk c] at r·4 + c
  for (var r = 0u; r < 8u; r++) { m[r] = NEG_INF; l[r] = 0.0; }
  for (var i = 0u; i < 32u; i++) { acc[i] = vec4f(0.0); }

  for (var j0 = 0u; j0 < p.S; j0 += 32u) {
    let jl = j0 + 4u * lane;                 // this lane's 4 keys
    var s: Rows;
    for (var r = 0u; r < 8u; r++) { s[r] = vec4f(0.0); }
    for (var d4 = 0u; d4 < n4; d4++) {
      let a = q[qBase + d4];
      let kb = kBase + 4u * d4 * Sp4 + jl / 4u;
      let k0 = kT[kb];
      let k1 = kT[kb + Sp4];
      let k2 = kT[kb + 2u * Sp4];
      let k3 = kT[kb + 3u * Sp4];
      s[0] += mac(subgroupBroadcast(a, 0u), k0, k1, k2, k3);
      s[1] += mac(subgroupBroadcast(a, 1u), k0, k1, k2, k3);
      s[2] += mac(subgroupBroadcast(a, 2u), k0, k1, k2, k3);
      s[3] += mac(subgroupBroadcast(a, 3u), k0, k1, k2, k3);
      s[4] += mac(subgroupBroadcast(a, 4u), k0, k1, k2, k3);
      s[5] += mac(subgroupBroadcast(a, 5u), k0, k1, k2, k3);
      s[6] += mac(subgroupBroadcast(a, 6u), k0, k1, k2, k3);
      s[7] += mac(subgroupBroadcast(a, 7u), k0, k1, k2, k3);
    }
    let valid = vec4<bool>(keyValid(b, jl), keyValid(b, jl + 1u), keyValid(b, jl + 2u), keyValid(b, jl + 3u));
    for (var r = 0u; r < 8u; r++) {
      let t = min(t0 + r, p.T - 1u);
      let sr = s[r] * p.scale + vec4f(biasAt(b, h, t, jl), biasAt(b, h, t, jl + 1u), biasAt(b, h, t, jl + 2u), biasAt(b, h, t, jl + 3u));
      let big = select(vec4f(NEG_INF), sr, valid);
      let mNew = max(m[r], subgroupMax(max(max(big.x, big.y), max(big.z, big.w))));
      let c = exp(m[r] - mNew);              // 1 while every key so far is masked (acc, l are 0)
      let pr = select(vec4f(0.0), exp(sr - mNew), valid);
      l[r] = l[r] * c + subgroupAdd(pr.x + pr.y + pr.z + pr.w);
      m[r] = mNew;
      s[r] = pr;
      for (var ch = 0u; ch < NC; ch++) { acc[r * 4u + ch] *= c; }
    }
    // P·V, four keys at a time, from the lane that owns them (broadcast with a constant lane:
    // subgroupShuffle with a loop variable is twice as slow on lavapipe).
    let vRow = bh * p.S;
    pv(&acc, fromLane0(s), vRow, j0, lane);
    pv(&acc, fromLane1(s), vRow, j0 + 4u, lane);
    pv(&acc, fromLane2(s), vRow, j0 + 8u, lane);
    pv(&acc, fromLane3(s), vRow, j0 + 12u, lane);
    pv(&acc, fromLane4(s), vRow, j0 + 16u, lane);
    pv(&acc, fromLane5(s), vRow, j0 + 20u, lane);
    pv(&acc, fromLane6(s), vRow, j0 + 24u, lane);
    pv(&acc, fromLane7(s), vRow, j0 + 28u, lane);
  }

  for (var r = 0u; r < 8u; r++) {
    if (t0 + r >= p.T) { break; }
    let inv = select(0.0, 1.0 / l[r], l[r] > 0.0);
    let ob = (bh * p.T + t0 + r) * n4 + lane * NC;
    for (var ch = 0u; ch < NC; ch++) { o[ob + ch] = acc[r * 4u + ch] * inv; }
  }
  if (t0 + lane < p.T) {
    lse[bh * p.T + t0 + lane] = select(NEG_INF, m[lane] + log(l[lane]), l[lane] > 0.0);
  }
}
