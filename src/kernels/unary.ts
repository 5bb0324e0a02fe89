/**
 * unary — elementwise `y = f(x)` for the ops in {@link UNARY_OPS}, one WGSL file for all of them
 * (`wgsl/unary.wgsl`, op chosen by an `override` constant). Backward: `dx = dy · f'(x)` by the same
 * file's `backward` entry point, which recomputes f' from the saved input.
 * PyTorch equivalents: `torch.neg/exp/log/sqrt/rsqrt/abs/tanh/sigmoid/relu`, `F.gelu` (erf form).
 * @module
 */
import { f32 } from '../tensor/runtime.js';
import { Tensor, record } from '../tensor/tensor.js';
import { expectDType, launch1d } from './util.js';
import { kernel } from './registry.js';

/** Op codes of `wgsl/unary.wgsl`. */
export const UNARY_OPS = {
  neg: 0, exp: 1, log: 2, sqrt: 3, rsqrt: 4, abs: 5, tanh: 6, sigmoid: 7, relu: 8, gelu: 9,
  affine: 10, square: 11, reciprocal: 12,
} as const;
/** Name of a unary op. */
export type UnaryOp = keyof typeof UNARY_OPS;

/** `y = f(x)`; `a`, `b` parameterize `affine` (`a·x + b`). */
export function unary(op: UnaryOp, x: Tensor, a = 0, b = 0): Tensor {
  expectDType(op, 'f32', x);
  const y = new Tensor(x.shape, 'f32');
  const v4 = x.size % 4 === 0; // whole vec4s: main4 / backward4, a quarter of the invocations
  const n = v4 ? x.size / 4 : x.size;
  launch1d(kernel('unary'), n, [x.buffer, y.buffer], [x.size, f32(a), f32(b)], { OP: UNARY_OPS[op] }, v4 ? 'main4' : undefined, (v4 ? 40 : 100) * x.size); // work: vec4 takes ~40% of the time
  return record(op, y, [x], (g) => {
    const dx = new Tensor(x.shape, 'f32');
    launch1d(kernel('unary'), n, [x.buffer, g.buffer, dx.buffer], [x.size, f32(a), f32(b)], { OP: UNARY_OPS[op] }, v4 ? 'backward4' : 'backward', (v4 ? 40 : 100) * x.size);
    return [dx];
  });
}

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** GELU, exact (erf) form, as `F.gelu(x)` and Hugging Face's `"gelu"`. */
export const gelu = (x: Tensor): Tensor => unary('gelu', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
/** `a·x + b` with scalar a, b. */
export const affine = (x: Tensor, a: number, b: number): Tensor => unary('affine', x, a, b);
/** `x·s`. */
export const scale = (x: Tensor, s: number): Tensor => unary('affine', x, s, 0);
/** `x + s`. */
export const addScalar = (x: Tensor, s: number): Tensor => unary('affine', x, 1, s);
