// binary: out = a ∘ b with NumPy broadcasting (up to 8 dims); compare ops give 1.0 / 0.0.
// Broadcasting is done by strides: a dimension of size 1 has stride 0, so no input is expanded.
// Thread mapping: one invocation per output element; when both inputs already have the output's
// shape (`same` = 1) the index is used directly, skipping the stride walk. Otherwise one
// invocation per run of `run` elements along the last dimension (runLength in util.ts), so the
// index is split into coordinates once per run: integer division has no vector instruction on
// CPU adapters.
// Bindings: 1 = a, 2 = b, 3 = out.
struct Params {
  n: u32, ndim: u32, same: u32, run: u32,   // run: elements per invocation when broadcasting
  shape: array<vec4u, 2>,   // output shape
  sa: array<vec4u, 2>,      // a's strides over the output shape (0 where broadcast)
  sb: array<vec4u, 2>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
// same4: both inputs of the output's shape and n % 4 == 0, 4 elements per invocation.
@group(0) @binding(1) var<storage, read> a4: array<vec4f>;
@group(0) @binding(2) var<storage, read> b4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out4: array<vec4f>;

override OP: u32 = 0;
#include "lib/grid.wgsl"
// OP codes: the names and values of BINARY_OPS in src/kernels/binary.ts (test/unit/registry.test.ts checks)
const ADD = 0u; const SUB = 1u; const MUL = 2u; const DIV = 3u; const MAXIMUM = 4u; const MINIMUM = 5u;
const EQ = 6u; const NE = 7u; const LT = 8u; const LE = 9u; const GT = 10u; const GE = 11u;

fn op(x: f32, y: f32) -> f32 {
  switch OP {
    case ADD: { return x + y; }
    case SUB: { return x - y; }
    case MUL: { return x * y; }
    case DIV: { return x / y; }
    case MAXIMUM: { return max(x, y); }
    case MINIMUM: { return min(x, y); }
    case EQ: { return select(0.0, 1.0, x == y); }
    case NE: { return select(0.0, 1.0, x != y); }
    case LT: { return select(0.0, 1.0, x < y); }
    case LE: { return select(0.0, 1.0, x <= y); }
    case GT: { return select(0.0, 1.0, x > y); }
    case GE: { return select(0.0, 1.0, x >= y); }
    default: { return x; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  if (p.same == 1u) {
    out[i] = op(a[i], b[i]);
    return;
  }
  let last = p.ndim - 1u;
  let L = p.shape[last / 4u][last % 4u];
  let runs = (L + p.run - 1u) / p.run;
  var rem = i / runs;                   // row (all dimensions but the last)
  if (rem * L >= p.n) { return; }
  let c0 = (i % runs) * p.run;
  var ia = 0u;
  var ib = 0u;
  for (var d = i32(last) - 1; d >= 0; d--) {
    let s = p.shape[d / 4][d % 4];
    let c = rem % s;
    rem = rem / s;
    ia += c * p.sa[d / 4][d % 4];
    ib += c * p.sb[d / 4][d % 4];
  }
  let row = (i / runs) * L;
  let saL = p.sa[last / 4u][last % 4u];
  let sbL = p.sb[last / 4u][last % 4u];
  for (var j = 0u; j < p.run; j++) {
    let c = c0 + j;
    if (c >= L) { break; }
    out[row + c] = op(a[ia + c * saL], b[ib + c * sbL]);
  }
}

@compute @workgroup_size(WG)
fn same4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n / 4u) { return; }
  let x = a4[i];
  let y = b4[i];
  out4[i] = vec4f(op(x.x, y.x), op(x.y, y.y), op(x.z, y.z), op(x.w, y.w));
}
