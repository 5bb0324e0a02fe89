// unary: y = f(x) elementwise, and its backward dx = dy * f'(x).
// f is picked by the OP override constant, so each op gets its own specialized pipeline and
// the switch folds away. a, b are op parameters (affine: y = a*x + b).
// Thread mapping: one invocation per element. Precision: f32; erf by Abramowitz–Stegun 7.1.26
// (|error| < 1.5e-7), tanh and sigmoid in overflow-free forms.
// Bindings: main: 1 = x, 2 = y.   backward: 1 = x, 2 = dy, 3 = dx.
struct Params { n: u32, a: f32, b: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
// main4 / backward4: 4 elements per invocation when n % 4 == 0 (a CPU adapter runs each storage
// access as a loop over the lanes, so a vec4 access costs about what a scalar one does).
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4f>;
@group(0) @binding(2) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dx4: array<vec4f>;

override OP: u32 = 0;
#include "lib/grid.wgsl"
// OP codes: the names and values of UNARY_OPS in src/kernels/unary.ts (test/unit/registry.test.ts checks)
const NEG = 0u; const EXP = 1u; const LOG = 2u; const SQRT = 3u; const RSQRT = 4u; const ABS = 5u;
const TANH = 6u; const SIGMOID = 7u; const RELU = 8u; const GELU = 9u; const AFFINE = 10u;
const SQUARE = 11u; const RECIPROCAL = 12u;

#include "lib/erf.wgsl"
fn tanh_(v: f32) -> f32 {
  let e = exp(-2.0 * abs(v));
  return sign(v) * (1.0 - e) / (1.0 + e);
}
fn sigmoid_(v: f32) -> f32 {
  let e = exp(-abs(v));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0);
}

fn f(v: f32) -> f32 {
  switch OP {
    case NEG: { return -v; }
    case EXP: { return exp(v); }
    case LOG: { return log(v); }
    case SQRT: { return sqrt(v); }
    case RSQRT: { return inverseSqrt(v); }
    case ABS: { return abs(v); }
    case TANH: { return tanh_(v); }
    case SIGMOID: { return sigmoid_(v); }
    case RELU: { return max(v, 0.0); }
    case GELU: { return gelu_(v); }
    case AFFINE: { return p.a * v + p.b; }
    case SQUARE: { return v * v; }
    case RECIPROCAL: { return 1.0 / v; }
    default: { return v; }
  }
}

// f'(v)
fn df(v: f32) -> f32 {
  switch OP {
    case NEG: { return -1.0; }
    case EXP: { return exp(v); }
    case LOG: { return 1.0 / v; }
    case SQRT: { return 0.5 * inverseSqrt(v); }
    case RSQRT: { return -0.5 * inverseSqrt(v) / v; }
    case ABS: { return sign(v); }
    case TANH: { let t = tanh_(v); return 1.0 - t * t; }
    case SIGMOID: { let s = sigmoid_(v); return s * (1.0 - s); }
    case RELU: { return select(0.0, 1.0, v > 0.0); }
    case GELU: { return gelu_grad_(v); }
    case AFFINE: { return p.a; }
    case SQUARE: { return 2.0 * v; }
    case RECIPROCAL: { return -1.0 / (v * v); }
    default: { return 1.0; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  y[i] = f(x[i]);
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  dx[i] = dy[i] * df(x[i]);
}

@compute @workgroup_size(WG)
fn main4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n / 4u) { return; }
  let v = x4[i];
  y4[i] = vec4f(f(v.x), f(v.y), f(v.z), f(v.w));
}

@compute @workgroup_size(WG)
fn backward4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n / 4u) { return; }
  let v = x4[i];
  dx4[i] = dy4[i] * vec4f(df(v.x), df(v.y), df(v.z), df(v.w));
}
