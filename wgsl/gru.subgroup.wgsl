// gru (subgroup variant, for CPU adapters such as lavapipe): the same recurrence, inputs and
// outputs as gru.wgsl, with each step's W_hh product done like matmul.subgroup.
// Thread mapping: one workgroup per (8 sequences, direction), H/4 invocations; invocation i owns
// hidden units 4i..4i+3 of all 8 sequences (8 rows × 3 gates of vec4 accumulators). Per step the
// product h·W_hhᵀ runs over k in steps of 4: lane r of each 8-lane subgroup loads row r's 4 state
// values and hands them to the others (subgroupBroadcast), each invocation loads 4 × 3 vec4 of
// W_hhᵀ for its units, so every weight load feeds 8 sequences (gru.wgsl loads it once per
// sequence). The state is read back from `out` at the previous step, so no workgroup memory is
// needed and one barrier per step suffices.
// Sequences of one workgroup may have different lengths: each walks its own time steps
// (direction 1: t = len−1−s) and stops at its length; padded steps output 0 as in gru.wgsl.
// Backward: per step, the gate gradients (dgh, written for dW_hh anyway) feed
// dh_{t−1} = dh ⊙ z + dgh·W_hh the same way, with W_hh [3H, H] read along units as it is stored.
// forward bindings:  1 gi, 2 WhhT [2, H, 3H], 3 bhh, 4 lengths, 5 out, 6 saved, 7 hprev, 8 hN
// backward bindings: 1 dy, 9 Whh [6H, H], 4 lengths, 6 saved, 7 hprev, 10 dgi, 11 dgh
// Rows, mac and step come from lib/rows8.wgsl (included below).
#include "lib/rows8.wgsl"
struct Params { B: u32, T: u32, H: u32, maxLen: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gi: array<vec4f>;
@group(0) @binding(2) var<storage, read> WhhT: array<vec4f>;
@group(0) @binding(3) var<storage, read> bhh: array<vec4f>;
@group(0) @binding(4) var<storage, read> lengths: array<i32>;
@group(0) @binding(5) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> saved: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> hprev: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> hN: array<vec4f>;
@group(0) @binding(1) var<storage, read> dy: array<vec4f>;
@group(0) @binding(9) var<storage, read> Whh: array<vec4f>;
@group(0) @binding(10) var<storage, read_write> dgi: array<vec4f>;
@group(0) @binding(11) var<storage, read_write> dgh: array<vec4f>;

override WG: u32 = 128;                    // H/4 rounded up to a multiple of 8

fn sigmoid4(v: vec4f) -> vec4f { let e = exp(-abs(v)); return select(e / (1.0 + e), 1.0 / (1.0 + e), v >= vec4f(0.0)); }
fn tanh4(v: vec4f) -> vec4f { let e = exp(-2.0 * abs(v)); return sign(v) * (1.0 - e) / (1.0 + e); }

// Sequence b0 + r: its length (0 past the batch), and its time step at step s of the walk
// (forward order when `fwd`, i.e. direction 0 in the forward pass, direction 1 in the backward).
fn seqLen(b: u32) -> u32 { return select(0u, u32(lengths[min(b, p.B - 1u)]), b < p.B); }
fn seqLens(b0: u32) -> array<u32, 8> {
  var len: array<u32, 8>;
  for (var r = 0u; r < 8u; r++) { len[r] = seqLen(b0 + r); }
  return len;
}
fn timeAt(s: u32, len: u32, fwd: bool) -> u32 { return select(len - 1u - s, s, fwd); }

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u,
        @builtin(subgroup_invocation_id) lane: u32) {
  let H = p.H;
  let H4 = H / 4u;
  let u = lid.x;                           // units 4u..4u+3
  let live = u < H4;                       // spare invocations of the last subgroup compute nothing
  let uu = min(u, H4 - 1u);
  let b0 = wid.x * 8u;
  let dir = wid.y;
  let myRow = lane % 8u;                   // the row this lane loads for the others
  let myLen = seqLen(b0 + myRow);
  let len = seqLens(b0);
  // Padded steps output 0.
  for (var r = 0u; r < 8u; r++) {
    if (!live || b0 + r >= p.B) { continue; }
    for (var t = len[r]; t < p.T; t++) {
      let o = ((b0 + r) * p.T + t) * 2u * H4 + dir * H4 + uu;
      out[o] = vec4f(0.0);
      hprev[o] = vec4f(0.0);
    }
  }
  let wBase = dir * H * 3u * H4;           // WhhT[dir] as [H][3H/4] vec4
  let bb = dir * 3u * H4 + uu;
  for (var s = 0u; s < p.maxLen; s++) {
    // h_{t−1} of this lane's row, 4 values at a time, from out at its previous step.
    let tMine = timeAt(s, myLen, dir == 0u);
    let tPrev = select(tMine + 1u, tMine - 1u, dir == 0u);
    let hasPrev = s > 0u && s < myLen;
    let hBase = ((b0 + myRow) * p.T + select(0u, tPrev, hasPrev)) * 2u * H4 + dir * H4;
    var ar = Rows();
    var az = Rows();
    var an = Rows();
    for (var k4 = 0u; k4 < H4; k4++) {
      let a = select(vec4f(0.0), out[min(hBase + k4, arrayLength(&out) - 1u)], hasPrev);
      let w = wBase + 4u * k4 * 3u * H4 + uu;
      let s3 = 3u * H4;
      ar = step(ar, a, WhhT[w], WhhT[w + s3], WhhT[w + 2u * s3], WhhT[w + 3u * s3]);
      az = step(az, a, WhhT[w + H4], WhhT[w + s3 + H4], WhhT[w + 2u * s3 + H4], WhhT[w + 3u * s3 + H4]);
      an = step(an, a, WhhT[w + 2u * H4], WhhT[w + s3 + 2u * H4], WhhT[w + 2u * s3 + 2u * H4], WhhT[w + 3u * s3 + 2u * H4]);
    }
    for (var r = 0u; r < 8u; r++) {
      if (!live || s >= len[r]) { continue; }
      let b = b0 + r;
      let t = timeAt(s, len[r], dir == 0u);
      let o = (b * p.T + t) * 2u * H4 + dir * H4 + uu;
      var hp = vec4f(0.0);
      if (s > 0u) { hp = out[(b * p.T + select(t + 1u, t - 1u, dir == 0u)) * 2u * H4 + dir * H4 + uu]; }
      let g = (b * p.T + t) * 6u * H4 + dir * 3u * H4 + uu;
      let hn = an[r] + bhh[bb + 2u * H4];
      let rg = sigmoid4(gi[g] + ar[r] + bhh[bb]);
      let zg = sigmoid4(gi[g + H4] + az[r] + bhh[bb + H4]);
      let ng = tanh4(gi[g + 2u * H4] + rg * hn);
      let sb = ((b * p.T + t) * 2u + dir) * 4u * H4 + uu;
      saved[sb] = rg;
      saved[sb + H4] = zg;
      saved[sb + 2u * H4] = ng;
      saved[sb + 3u * H4] = hn;
      hprev[o] = hp;
      out[o] = (1.0 - zg) * ng + zg * hp;
    }
    storageBarrier();
  }
  for (var r = 0u; r < 8u; r++) {
    if (!live || b0 + r >= p.B) { continue; }
    let t = select(0u, len[r] - 1u, dir == 0u);    // the last step walked
    hN[(dir * p.B + b0 + r) * H4 + uu] = out[((b0 + r) * p.T + t) * 2u * H4 + dir * H4 + uu];
  }
}

@compute @workgroup_size(WG)
fn backward(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u,
            @builtin(subgroup_invocation_id) lane: u32) {
  let H = p.H;
  let H4 = H / 4u;
  let u = lid.x;
  let live = u < H4;
  let uu = min(u, H4 - 1u);
  let b0 = wid.x * 8u;
  let dir = wid.y;
  let myRow = lane % 8u;
  let myLen = seqLen(b0 + myRow);
  let len = seqLens(b0);
  for (var r = 0u; r < 8u; r++) {
    if (!live || b0 + r >= p.B) { continue; }
    for (var t = len[r]; t < p.T; t++) {
      let g = ((b0 + r) * p.T + t) * 6u * H4 + dir * 3u * H4 + uu;
      for (var q = 0u; q < 3u; q++) { dgi[g + q * H4] = vec4f(0.0); dgh[g + q * H4] = vec4f(0.0); }
    }
  }
  var dh = Rows();
  let wBase = dir * 3u * H * H4;           // Whh[dir] as [3H][H/4] vec4
  // Walk the steps in the reverse of the forward order.
  for (var s = 0u; s < p.maxLen; s++) {
    var dhz = Rows();
    for (var r = 0u; r < 8u; r++) {
      if (!live || s >= len[r]) { continue; }
      let b = b0 + r;
      let t = timeAt(s, len[r], dir == 1u);
      let d = dh[r] + dy[(b * p.T + t) * 2u * H4 + dir * H4 + uu];
      let sb = ((b * p.T + t) * 2u + dir) * 4u * H4 + uu;
      let rg = saved[sb];
      let zg = saved[sb + H4];
      let ng = saved[sb + 2u * H4];
      let hn = saved[sb + 3u * H4];
      let hp = hprev[(b * p.T + t) * 2u * H4 + dir * H4 + uu];
      let dan = d * (1.0 - zg) * (1.0 - ng * ng);
      let daz = d * (hp - ng) * zg * (1.0 - zg);
      let dar = dan * hn * rg * (1.0 - rg);
      let g = (b * p.T + t) * 6u * H4 + dir * 3u * H4 + uu;
      dgi[g] = dar;
      dgi[g + H4] = daz;
      dgi[g + 2u * H4] = dan;
      dgh[g] = dar;
      dgh[g + H4] = daz;
      dgh[g + 2u * H4] = dan * rg;
      dhz[r] = d * zg;
    }
    storageBarrier();
    // dh_{t−1} = dh ⊙ z + dgh_t · W_hh, dgh of this lane's row shared 4 values at a time.
    let walking = s < myLen;
    let tMine = timeAt(s, myLen, dir == 1u);
    let gBase = ((b0 + myRow) * p.T + select(0u, tMine, walking)) * 6u * H4 + dir * 3u * H4;
    var acc = Rows();
    for (var k4 = 0u; k4 < 3u * H4; k4++) {
      let a = select(vec4f(0.0), dgh[min(gBase + k4, arrayLength(&dgh) - 1u)], walking);
      let w = wBase + 4u * k4 * H4 + uu;
      acc = step(acc, a, Whh[w], Whh[w + H4], Whh[w + 2u * H4], Whh[w + 3u * H4]);
    }
    for (var r = 0u; r < 8u; r++) {
      if (s < len[r]) { dh[r] = dhz[r] + acc[r]; }
    }
    storageBarrier();
  }
}
