/**
 * Every WGSL kernel of the engine, by stem, with its entry points. One test walks this table and
 * compiles each entry point on the current adapter, so a broken shader fails fast with its name.
 * @module
 */
import type { Kernel } from '../tensor/runtime.js';
import { fillKernel } from './fill.js';
import { unaryKernel } from './unary.js';
import { binaryKernel } from './binary.js';
import { whereKernel } from './where.js';
import { copyKernel } from './copy.js';
import { reduceKernel } from './reduce.js';
import { matmulKernel, matmulSubgroupKernel, matmulNaiveKernel } from './matmul.js';
import { softmaxKernel } from './softmax.js';
import { layerNormKernel } from './layer_norm.js';
import { im2colKernel } from './conv1d.js';
import { embeddingKernel } from './embedding.js';
import { dropoutKernel } from './dropout.js';
import { adamwKernel } from './adamw.js';
import { attentionKernel, attentionSubgroupKernel } from './attention.js';
import { crossEntropyKernel } from './cross_entropy.js';
import { contrastiveKernel } from './contrastive.js';
import { gruKernel, gruSubgroupKernel } from './gru.js';

/** A registry row: the kernel, its entry points, and whether it needs the `subgroups` feature. */
export interface KernelEntry {
  kernel: Kernel;
  entries: string[];
  needsSubgroups?: boolean;
}

/** All kernels. */
export const KERNELS: KernelEntry[] = [
  { kernel: fillKernel, entries: ['main', 'main_i32'] },
  { kernel: unaryKernel, entries: ['main', 'backward', 'main4', 'backward4'] },
  { kernel: binaryKernel, entries: ['main', 'same4'] },
  { kernel: whereKernel, entries: ['main'] },
  { kernel: copyKernel, entries: ['main'] },
  { kernel: reduceKernel, entries: ['main', 'argmax', 'max_backward'] },
  { kernel: matmulKernel, entries: ['main'] },
  { kernel: matmulSubgroupKernel, entries: ['nn', 'nt', 'tn'], needsSubgroups: true },
  { kernel: matmulNaiveKernel, entries: ['main'] },
  { kernel: softmaxKernel, entries: ['main', 'backward', 'main4', 'backward4'] },
  { kernel: layerNormKernel, entries: ['main', 'backward', 'backward_params'] },
  { kernel: im2colKernel, entries: ['main', 'backward'] },
  { kernel: embeddingKernel, entries: ['main', 'backward'] },
  { kernel: dropoutKernel, entries: ['main'] },
  { kernel: adamwKernel, entries: ['main'] },
  { kernel: attentionKernel, entries: ['main', 'row_dot', 'dq', 'dkv'] },
  { kernel: attentionSubgroupKernel, entries: ['main', 'dq', 'dkv'], needsSubgroups: true },
  { kernel: crossEntropyKernel, entries: ['main', 'backward'] },
  { kernel: gruKernel, entries: ['main', 'backward'] },
  { kernel: gruSubgroupKernel, entries: ['main', 'backward'], needsSubgroups: true },
  { kernel: contrastiveKernel, entries: ['normalize', 'rows', 'grad_logits', 'normalize_backward'] },
];
