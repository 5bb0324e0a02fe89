/**
 * All ops, as plain functions. Importing this module wires the few kernels the tensor core
 * itself needs (fill for constants, add for gradient accumulation).
 * @module
 */
import { setGradHelpers, ones, type Tensor } from '../tensor/tensor.js';
import { add } from './binary.js';
import { scale } from './unary.js';
import { setReduceScale } from './reduce.js';
import { setMatmulAdd } from './matmul.js';
import './fill.js';

setGradHelpers(add, (shape) => ones(shape));
setReduceScale(scale);
setMatmulAdd((y: Tensor, b: Tensor) => add(y, b));

export * from './unary.js';
export { add, sub, mul, div, maximum, minimum, binary, broadcastShapes, type BinaryOp } from './binary.js';
export { where, maskedFill } from './where.js';
export { permute, transpose, slice, narrow, pad, concat, broadcastTo, clone } from './copy.js';
export { sum, mean, max, argmax, sumTo } from './reduce.js';
export { matmul, linear, matmulVariant, forceMatmulVariant, type MatmulOptions, type MatmulVariant } from './matmul.js';
export { softmax, logSoftmax } from './softmax.js';
export { layerNorm } from './layer_norm.js';
export { groupNorm } from './group_norm.js';
export { conv1d, im2col, type Conv1dOptions } from './conv1d.js';
export { embedding } from './embedding.js';
export { dropout } from './dropout.js';
export { KERNELS, type KernelEntry } from './registry.js';
export { adamwUpdate, type AdamWStep } from './adamw.js';
export { attention, attentionComposed, fusedAttentionSupports, attentionImpl, forceAttentionImpl, forceAttentionBackward, materializedBackward, type AttentionOptions, type AttentionImpl } from './attention.js';
export { crossEntropy, crossEntropyComposed, classWeights, type CrossEntropyOptions } from './cross_entropy.js';
export { contrastiveLoss, contrastiveComposed, type ContrastiveMode, type ContrastiveOptions } from './contrastive.js';
export { gruRecurrence, GRU_MAX_HIDDEN } from './gru.js';
