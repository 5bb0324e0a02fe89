/**
 * binary — `out = a ∘ b` with NumPy broadcasting (`wgsl/binary.wgsl`, op chosen by an `override`
 * constant). Backward rules are composed from other ops and reduce the gradient back over the
 * broadcast dimensions with {@link sumTo}.
 * PyTorch equivalents: `a + b`, `a - b`, `a * b`, `a / b`, `torch.maximum`, `torch.minimum`,
 * comparisons (as 0/1 floats).
 * @module
 */
import { Tensor, record, fmt } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides } from '../tensor/shape.js';
import { dims8, expectDType, launch1d, runLength } from './util.js';
import { neg, scale } from './unary.js';
import { sumTo } from './reduce.js';
import { kernel } from './registry.js';

/** Op codes of `wgsl/binary.wgsl`. */
export const BINARY_OPS = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, eq: 6, ne: 7, lt: 8, le: 9, gt: 10, ge: 11 } as const;
/** Name of a binary op. */
export type BinaryOp = keyof typeof BINARY_OPS;

/** `a ∘ b` elementwise with broadcasting. */
export function binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  expectDType(op, 'f32', a, b);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = new Tensor(shape, 'f32');
  const same = fmt(a.shape) === fmt(shape) && fmt(b.shape) === fmt(shape) ? 1 : 0;
  // Broadcasting: one invocation per run of the last dimension (see runLength).
  const L = shape.length ? shape.at(-1)! : 1;
  const run = runLength(L);
  const same4 = same === 1 && out.size % 4 === 0; // whole vec4s: the same4 entry point
  const invocations = same4 ? out.size / 4 : same || !L ? out.size : (out.size / L) * Math.ceil(L / run);
  launch1d(kernel('binary'), invocations, [a.buffer, b.buffer, out.buffer], [
    out.size, Math.max(1, shape.length), same, run,
    ...dims8(op, shape), ...dims8(op, broadcastStrides(a.shape, shape)), ...dims8(op, broadcastStrides(b.shape, shape)),
  ], { OP: BINARY_OPS[op] }, same4 ? 'same4' : undefined, (same4 ? 40 : 100) * out.size); // work: vec4 takes ~40% of the time
  if (BINARY_OPS[op] >= BINARY_OPS.eq) return out; // comparisons have no gradient
  return record(op, out, [a, b], (g) => binaryBackward(op, a, b, g));
}

function binaryBackward(op: BinaryOp, a: Tensor, b: Tensor, g: Tensor): Array<Tensor | null> {
  switch (op) {
    case 'add':
      return [sumTo(g, a.shape, false), sumTo(g, b.shape, false)];
    case 'sub':
      return [sumTo(g, a.shape, false), sumTo(neg(g), b.shape)];
    case 'mul':
      return [a.requiresGrad ? sumTo(mul(g, b), a.shape) : null, b.requiresGrad ? sumTo(mul(g, a), b.shape) : null];
    case 'div': {
      const ga = div(g, b);
      const gb = b.requiresGrad ? sumTo(neg3(ga, a, b), b.shape) : null;
      return [sumTo(ga, a.shape), gb];
    }
    case 'maximum':
    case 'minimum': {
      // torch splits the gradient evenly between a and b where they tie.
      const m = tieMask(op, a, b);
      const ga = mul(g, m);
      const gb = sub(g, ga);
      m.dispose();
      return [sumTo(ga, a.shape), sumTo(gb, b.shape)];
    }
    default:
      return [null, null];
  }
}

/** −ga·a/b (the gradient of a/b w.r.t. b, given ga = g/b); frees its temporaries. */
function neg3(ga: Tensor, a: Tensor, b: Tensor): Tensor {
  const t = mul(ga, a);
  const u = div(t, b);
  t.dispose();
  const v = neg(u);
  u.dispose();
  return v;
}

/** 1 where `a` wins, 0 where `b` wins, 0.5 on ties (torch.maximum's rule). */
function tieMask(op: 'maximum' | 'minimum', a: Tensor, b: Tensor): Tensor {
  const wins = binary(op === 'maximum' ? 'gt' : 'lt', a, b);
  const ties = binary('eq', a, b);
  const half = scale(ties, 0.5);
  const m = binary('add', wins, half);
  for (const t of [wins, ties, half]) t.dispose();
  return m;
}

export const add = (a: Tensor, b: Tensor): Tensor => binary('add', a, b);
export const sub = (a: Tensor, b: Tensor): Tensor => binary('sub', a, b);
export const mul = (a: Tensor, b: Tensor): Tensor => binary('mul', a, b);
export const div = (a: Tensor, b: Tensor): Tensor => binary('div', a, b);
export const maximum = (a: Tensor, b: Tensor): Tensor => binary('maximum', a, b);
export const minimum = (a: Tensor, b: Tensor): Tensor => binary('minimum', a, b);
