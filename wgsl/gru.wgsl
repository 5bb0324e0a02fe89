// gru: the recurrence of a bidirectional nn.GRU (gate order r, z, n), both directions at once,
// with per-sequence lengths. The input projections gi = x·W_ihᵀ + b_ih come from one matmul
// before this kernel; the weight gradients from matmuls after it.
//   r = σ(gi_r + W_hr h + b_hr);  z = σ(gi_z + W_hz h + b_hz);  n = tanh(gi_n + r ⊙ (W_hn h + b_hn))
//   h ← (1 − z) ⊙ n + z ⊙ h,  h₀ = 0
// Direction 0 runs t = 0 … len−1, direction 1 runs t = len−1 … 0; steps t ≥ len output 0,
// leave the state alone and get no gradient (PyTorch's packed-sequence semantics).
// Thread mapping: one workgroup per (sequence b, direction); invocation i owns hidden units
// i, i+WG, …; the state h lives in workgroup memory and one barrier separates time steps, so a
// whole direction is one launch, not one per step.
// Layouts: gi, dgi, dgh [B,T,6H] (direction-major gates: [r z n]_fwd [r z n]_bwd);
// Whh [6H,H] and bhh [6H] likewise; out, hprev [B,T,2H]; saved [B,T,2,4H] = (r, z, n, W_hn h + b_hn).
// forward bindings:  1 gi, 2 Whh, 3 bhh, 4 lengths (i32), 5 out, 6 saved, 7 hprev, 8 hN [2,B,H]
// backward bindings: 1 dy [B,T,2H], 2 Whh, 4 lengths, 6 saved, 7 hprev, 9 dgi, 10 dgh
struct Params { B: u32, T: u32, H: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gi: array<f32>;
@group(0) @binding(2) var<storage, read> Whh: array<f32>;
@group(0) @binding(3) var<storage, read> bhh: array<f32>;
@group(0) @binding(4) var<storage, read> lengths: array<i32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> saved: array<f32>;
@group(0) @binding(7) var<storage, read_write> hprev: array<f32>;
@group(0) @binding(8) var<storage, read_write> hN: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read> savedIn: array<f32>;
@group(0) @binding(7) var<storage, read> hprevIn: array<f32>;
@group(0) @binding(9) var<storage, read_write> dgi: array<f32>;
@group(0) @binding(10) var<storage, read_write> dgh: array<f32>;
override WG: u32 = 64;
const MAXH = 512u;                 // hidden size limit (workgroup memory)
const MAXU = 16u;                  // hidden units per invocation: MAXH / smallest WG (32)
var<workgroup> hs: array<f32, MAXH>;
var<workgroup> gs: array<f32, 1536>;   // 3·MAXH gate gradients of one step
var<workgroup> lenW: u32;

fn sigmoid_(v: f32) -> f32 { let e = exp(-abs(v)); return select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0); }
// Sequence b's length, read once and shared as a workgroup-uniform value (barriers depend on it).
fn seqLength(b: u32, lane: u32) -> u32 {
  if (lane == 0u) { lenW = u32(lengths[b]); }
  return workgroupUniformLoad(&lenW);
}
fn tanh_(v: f32) -> f32 { let e = exp(-2.0 * abs(v)); return sign(v) * (1.0 - e) / (1.0 + e); }

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let b = wid.x;
  let dir = wid.y;
  let H = p.H;
  let H3 = 3u * H;
  let len = seqLength(b, lid.x);
  for (var j = lid.x; j < H; j += WG) {
    hs[j] = 0.0;
    for (var t = len; t < p.T; t++) {
      out[(b * p.T + t) * 2u * H + dir * H + j] = 0.0;
      hprev[(b * p.T + t) * 2u * H + dir * H + j] = 0.0;
    }
  }
  workgroupBarrier();
  for (var s = 0u; s < len; s++) {
    let t = select(s, len - 1u - s, dir == 1u);
    var hnew: array<f32, MAXU>;
    var u = 0u;
    for (var j = lid.x; j < H; j += WG) {
      let w = dir * H3 * H;
      var ar = bhh[dir * H3 + j];
      var az = bhh[dir * H3 + H + j];
      var an = bhh[dir * H3 + 2u * H + j];
      for (var k = 0u; k < H; k++) {
        let h = hs[k];
        ar += Whh[w + j * H + k] * h;
        az += Whh[w + (H + j) * H + k] * h;
        an += Whh[w + (2u * H + j) * H + k] * h;
      }
      let g = (b * p.T + t) * 6u * H + dir * H3;
      let r = sigmoid_(gi[g + j] + ar);
      let z = sigmoid_(gi[g + H + j] + az);
      let n = tanh_(gi[g + 2u * H + j] + r * an);
      let hp = hs[j];
      let h = (1.0 - z) * n + z * hp;
      hnew[u] = h;
      u++;
      let sb = ((b * p.T + t) * 2u + dir) * 4u * H;
      saved[sb + j] = r;
      saved[sb + H + j] = z;
      saved[sb + 2u * H + j] = n;
      saved[sb + 3u * H + j] = an;
      hprev[(b * p.T + t) * 2u * H + dir * H + j] = hp;
      out[(b * p.T + t) * 2u * H + dir * H + j] = h;
    }
    workgroupBarrier();
    u = 0u;
    for (var j = lid.x; j < H; j += WG) { hs[j] = hnew[u]; u++; }
    workgroupBarrier();
  }
  for (var j = lid.x; j < H; j += WG) { hN[(dir * p.B + b) * H + j] = hs[j]; }
}

@compute @workgroup_size(WG)
fn backward(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let b = wid.x;
  let dir = wid.y;
  let H = p.H;
  let H3 = 3u * H;
  let len = seqLength(b, lid.x);
  var dh: array<f32, MAXU>;        // gradient w.r.t. the state of this invocation's units
  var u = 0u;
  for (var j = lid.x; j < H; j += WG) {
    dh[u] = 0.0;
    u++;
    for (var t = len; t < p.T; t++) {
      let g = (b * p.T + t) * 6u * H + dir * H3;
      for (var q = 0u; q < 3u; q++) { dgi[g + q * H + j] = 0.0; dgh[g + q * H + j] = 0.0; }
    }
  }
  // Walk the steps in the reverse of the forward order.
  for (var s = 0u; s < len; s++) {
    let t = select(len - 1u - s, s, dir == 1u);
    var dhz: array<f32, MAXU>;
    u = 0u;
    for (var j = lid.x; j < H; j += WG) {
      let d = dh[u] + dy[(b * p.T + t) * 2u * H + dir * H + j];
      let sb = ((b * p.T + t) * 2u + dir) * 4u * H;
      let r = savedIn[sb + j];
      let z = savedIn[sb + H + j];
      let n = savedIn[sb + 2u * H + j];
      let an = savedIn[sb + 3u * H + j];
      let hp = hprevIn[(b * p.T + t) * 2u * H + dir * H + j];
      let dan = d * (1.0 - z) * (1.0 - n * n);
      let daz = d * (hp - n) * z * (1.0 - z);
      let dar = dan * an * r * (1.0 - r);
      let g = (b * p.T + t) * 6u * H + dir * H3;
      dgi[g + j] = dar;
      dgi[g + H + j] = daz;
      dgi[g + 2u * H + j] = dan;
      dgh[g + j] = dar;
      dgh[g + H + j] = daz;
      dgh[g + 2u * H + j] = dan * r;
      gs[j] = dar;
      gs[H + j] = daz;
      gs[2u * H + j] = dan * r;
      dhz[u] = d * z;
      u++;
    }
    workgroupBarrier();
    // dh_{t−1} = dh ⊙ z + W_hhᵀ · (gate gradients on the hidden side)
    u = 0u;
    for (var j = lid.x; j < H; j += WG) {
      var acc = dhz[u];
      let w = dir * H3 * H;
      for (var k = 0u; k < H3; k++) { acc += Whh[w + k * H + j] * gs[k]; }
      dh[u] = acc;
      u++;
    }
    workgroupBarrier();
  }
}
