/**
 * All ops, as plain functions, and the kernel registry. Importing this module has no side
 * effects: every op imports what it needs, and the autograd walker gets its ops as arguments
 * ({@link backward}).
 * @module
 */
export { backward } from './autograd.js';
export { full, zeros, ones, arange, fillInto } from './fill.js';
export * from './unary.js';
export { add, sub, mul, div, maximum, minimum, binary, BINARY_OPS, type BinaryOp } from './binary.js';
export { broadcastShapes, broadcastStrides } from '../tensor/shape.js';
export { where, maskedFill } from './where.js';
export { permute, transpose, slice, narrow, pad, concat, clone } from './copy.js';
export { sum, mean, max, argmax, sumTo, broadcastTo } from './reduce.js';
export { matmul, linear, matmulVariant, type MatmulOptions, type MatmulVariant } from './matmul.js';
export { softmax, logSoftmax } from './softmax.js';
export { layerNorm } from './layer_norm.js';
export { groupNorm, groupNormChannelsLast } from './group_norm.js';
export { conv1d, im2col, type Conv1dOptions } from './im2col.js';
export { conv1dFrames, type FramesConvOptions } from './frames.js';
export { embedding } from './embedding.js';
export { dropout } from './dropout.js';
export { REGISTRY, kernel, forceVariant, forcedVariant, chooseVariant, registryEntries, hasSubgroupsOf8, type Stem, type VariantName, type Variant, type AnyVariant, type ProblemOf, type MatmulProblem, type AttentionProblem, type GruProblem } from './registry.js';
export { adamwUpdate, type AdamWStep } from './adamw.js';
export { attention, attentionComposed, attentionWeights, attentionImpl, type AttentionOptions, type AttentionImpl } from './attention.js';
export { crossEntropy, crossEntropyComposed, classWeights, type CrossEntropyOptions } from './cross_entropy.js';
export { contrastiveLoss, contrastiveComposed, type ContrastiveMode, type ContrastiveOptions } from './contrastive.js';
export { gruRecurrence, gruImpl, GRU_MAX_HIDDEN, type GruImpl } from './gru.js';
