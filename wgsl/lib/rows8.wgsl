// rows8: the register block the subgroup kernels share (attention.subgroup, gru.subgroup).
// Kernels take it with `#include "lib/rows8.wgsl"` (expanded by scripts/wgsl.mjs).
// A block is 8 rows × this lane's 4 columns; per step of 4 along k, lane r of each 8-lane
// subgroup holds row r's 4 values and hands them to the others with subgroupBroadcast, while
// every lane loads the 4×4 values of its own columns: each load then feeds 8 rows, which is what
// makes these kernels fast on lavapipe (a storage load costs about a multiply-add there).
enable subgroups;

alias Rows = array<vec4f, 8>;

// a · (b0, b1, b2, b3): one row's 4 values along k against those 4 k-rows at this lane's columns.
fn mac(a: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  return a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
}

// acc[r] += a_r · (b0..b3) for the 8 rows, a_r taken from lane r (a constant lane: broadcasts
// with a variable lane, i.e. shuffles, run about 2× slower on lavapipe).
fn step(acc: Rows, a: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> Rows {
  var o = acc;
  o[0] += mac(subgroupBroadcast(a, 0u), b0, b1, b2, b3);
  o[1] += mac(subgroupBroadcast(a, 1u), b0, b1, b2, b3);
  o[2] += mac(subgroupBroadcast(a, 2u), b0, b1, b2, b3);
  o[3] += mac(subgroupBroadcast(a, 3u), b0, b1, b2, b3);
  o[4] += mac(subgroupBroadcast(a, 4u), b0, b1, b2, b3);
  o[5] += mac(subgroupBroadcast(a, 5u), b0, b1, b2, b3);
  o[6] += mac(subgroupBroadcast(a, 6u), b0, b1, b2, b3);
  o[7] += mac(subgroupBroadcast(a, 7u), b0, b1, b2, b3);
  return o;
}

// step, with this lane's 4 columns given as 4 rows w0..w3 of a row-major operand (4 values
// each along k): the 4×4 block is transposed in registers, as matmul.subgroup's `nt` does,
// so no transposed copy of the operand is needed.
fn stepT(acc: Rows, a: vec4f, w0: vec4f, w1: vec4f, w2: vec4f, w3: vec4f) -> Rows {
  return step(acc, a, vec4f(w0.x, w1.x, w2.x, w3.x), vec4f(w0.y, w1.y, w2.y, w3.y),
              vec4f(w0.z, w1.z, w2.z, w3.z), vec4f(w0.w, w1.w, w2.w, w3.w));
}
