// erf and GELU, shared by the unary kernel and the matmul epilogue so a fused GELU is the same
// function as the separate one. erf by Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7).
fn erf_(v: f32) -> f32 {
  let s = sign(v);
  let a = abs(v);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return s * (1.0 - poly * exp(-a * a));
}
// HF's "gelu" (exact, erf-based): x · Φ(x).
fn gelu_(v: f32) -> f32 { return 0.5 * v * (1.0 + erf_(v * 0.70710678118654752)); }
// Its derivative: Φ(x) + x·φ(x).
fn gelu_grad_(v: f32) -> f32 {
  let cdf = 0.5 * (1.0 + erf_(v * 0.70710678118654752));
  let pdf = 0.3989422804014327 * exp(-0.5 * v * v);
  return cdf + v * pdf;
}
