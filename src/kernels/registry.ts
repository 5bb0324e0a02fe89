/**
 * Every WGSL kernel of the engine, typed over its stems: for each stem its variants, each with
 * its file under `wgsl/`, its entry points, and the condition under which it runs. Wrappers get
 * their kernels from here ({@link kernel}) and their variant from {@link chooseVariant};
 * {@link forceVariant} overrides the choice for tests and benchmarks.
 *
 * Two tests walk this table: `test/unit/registry.test.ts` reads the `@compute` entry points of
 * every `.wgsl` file and fails on one the table lacks or misnames, and
 * `test/kernels/registry.test.ts` compiles every entry point on the adapter.
 * @module
 */
import adamw from '../../wgsl/adamw.wgsl';
import attention from '../../wgsl/attention.wgsl';
import attentionSubgroup from '../../wgsl/attention.subgroup.wgsl';
import binary from '../../wgsl/binary.wgsl';
import contrastive from '../../wgsl/contrastive.wgsl';
import copy from '../../wgsl/copy.wgsl';
import crossEntropy from '../../wgsl/cross_entropy.wgsl';
import dropout from '../../wgsl/dropout.wgsl';
import embedding from '../../wgsl/embedding.wgsl';
import fill from '../../wgsl/fill.wgsl';
import gru from '../../wgsl/gru.wgsl';
import gruSubgroup from '../../wgsl/gru.subgroup.wgsl';
import im2col from '../../wgsl/im2col.wgsl';
import frames from '../../wgsl/frames.wgsl';
import layerNorm from '../../wgsl/layer_norm.wgsl';
import matmul from '../../wgsl/matmul.wgsl';
import matmulNaive from '../../wgsl/matmul.naive.wgsl';
import matmulSubgroup from '../../wgsl/matmul.subgroup.wgsl';
import reduce from '../../wgsl/reduce.wgsl';
import softmax from '../../wgsl/softmax.wgsl';
import unary from '../../wgsl/unary.wgsl';
import where from '../../wgsl/where.wgsl';
import type { Kernel } from '../tensor/runtime.js';
import { deviceInfo } from '../tensor/device.js';

/** One way to compute a stem's op. */
export interface Variant<C> {
  /** The WGSL file under `wgsl/` (`<stem>.wgsl` or `<stem>.<variant>.wgsl`); null for a composition of other kernels. */
  file: string | null;
  /** Its text, `#include`s expanded (empty for a composition). */
  source: string;
  /** The `@compute` entry points this variant runs. */
  entries: readonly string[];
  /** When the automatic choice takes it, in words. */
  when: string;
  /** Whether it can run this problem at all (default: always). A forced variant that cannot falls back to the automatic choice. */
  supports?: (c: C) => boolean;
  /** Whether the automatic choice takes it; the first variant, in table order, that supports the problem and prefers it wins. */
  prefers?: (c: C) => boolean;
  /** Needs the adapter's `subgroups` feature. */
  subgroups?: boolean;
}

/** What the variant choice of each multi-variant stem looks at. */
export interface MatmulProblem {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  /** False when an operand read in place from another layout has a row or item stride that is not a multiple of 4. */
  aligned?: boolean;
}
/** Attention: the head size and the size of one T×S matrix over the batch and heads (B·H·T·S). */
export interface AttentionProblem {
  headDim: number;
  scores: number;
}
/** GRU: the hidden size. */
export interface GruProblem {
  hidden: number;
}

const isCpu = (): boolean => deviceInfo().isCpu;

/**
 * True when the adapter's subgroups have at least 8 lanes (unknown sizes count on CPU adapters,
 * whose SIMD width is 8 or more): what the 8-row subgroup kernels (matmul, attention, GRU) rely on.
 */
export function hasSubgroupsOf8(): boolean {
  const info = deviceInfo();
  return info.hasSubgroups && (info.subgroupMinSize >= 8 || (info.subgroupMinSize === 0 && info.isCpu));
}

/** Largest T×S scores matrix (bytes) the subgroup attention backward writes out: 64 MiB, or the binding limit. */
function materializedScoresFit(scores: number): boolean {
  return scores * 4 <= Math.min(64 * 2 ** 20, deviceInfo().limits.maxStorageBufferBindingSize);
}
const subgroupAttention = (p: AttentionProblem): boolean => hasSubgroupsOf8() && p.headDim % 32 === 0 && p.headDim <= 128;

function single(file: string, source: string, entries: readonly string[]): { main: Variant<void> } {
  return { main: { file, source, entries, when: 'always' } };
}

/** The table. Variant order is preference order. */
export const REGISTRY = {
  fill: single('fill.wgsl', fill, ['main', 'main_i32']),
  unary: single('unary.wgsl', unary, ['main', 'backward', 'main4', 'backward4']),
  binary: single('binary.wgsl', binary, ['main', 'same4']),
  where: single('where.wgsl', where, ['main']),
  copy: single('copy.wgsl', copy, ['main']),
  reduce: single('reduce.wgsl', reduce, ['main', 'argmax', 'max_backward']),
  softmax: single('softmax.wgsl', softmax, ['main', 'backward', 'main4', 'backward4']),
  layer_norm: single('layer_norm.wgsl', layerNorm, ['main', 'backward', 'backward_params', 'group_cl', 'group_cl_backward']),
  im2col: single('im2col.wgsl', im2col, ['main', 'backward']),
  frames: single('frames.wgsl', frames, ['fold']),
  embedding: single('embedding.wgsl', embedding, ['main', 'backward']),
  dropout: single('dropout.wgsl', dropout, ['main']),
  adamw: single('adamw.wgsl', adamw, ['main']),
  cross_entropy: single('cross_entropy.wgsl', crossEntropy, ['main', 'backward']),
  contrastive: single('contrastive.wgsl', contrastive, ['normalize', 'rows', 'grad_logits', 'normalize_backward']),
  matmul: {
    subgroup: {
      file: 'matmul.subgroup.wgsl', source: matmulSubgroup, entries: ['nn', 'nt', 'tn', 'tn4'], subgroups: true,
      when: 'CPU adapters with 8-lane subgroups, K and N multiples of 4, not both operands transposed (8 or 16 rows per invocation sharing each B load)',
      supports: (p) => hasSubgroupsOf8() && p.K % 4 === 0 && p.N % 4 === 0 && !(p.transA && p.transB) && p.M > 0 && p.aligned !== false,
      prefers: isCpu,
    },
    naive: {
      file: 'matmul.naive.wgsl', source: matmulNaive, entries: ['main'],
      when: 'CPU adapters where the subgroup kernel does not apply (workgroup memory and barriers are slow there)',
      prefers: isCpu,
    },
    tiled: { file: 'matmul.wgsl', source: matmul, entries: ['main'], when: 'GPUs: 64×64 tiles in workgroup memory' },
  } satisfies Record<string, Variant<MatmulProblem>>,
  attention: {
    fused: {
      file: 'attention.wgsl', source: attention, entries: ['main', 'row_dot', 'dq', 'dkv'],
      when: 'GPUs: one query row per invocation, online softmax, no T×S scores in memory',
      supports: (p) => p.headDim % 4 === 0 && p.headDim <= 128,
      prefers: () => !isCpu(),
    },
    subgroup: {
      file: 'attention.subgroup.wgsl', source: attentionSubgroup, entries: ['main', 'ds'], subgroups: true,
      when: 'CPU adapters, Dh a multiple of 32 up to 128, while one T×S matrix fits 64 MiB: blocks of 8 rows × 32 keys; the backward writes P and dS once and finishes with three matmuls',
      supports: subgroupAttention,
      prefers: (p) => isCpu() && materializedScoresFit(p.scores),
    },
    subgroup_streaming: {
      file: 'attention.subgroup.wgsl', source: attentionSubgroup, entries: ['main', 'dq', 'dkv'], subgroups: true,
      when: 'CPU adapters, longer sequences: the same forward; the backward streams (dq, dkv) with nothing T×S in memory',
      supports: subgroupAttention,
      prefers: isCpu,
    },
    composed: { file: null, source: '', entries: [], when: 'head sizes no kernel takes, and CPU adapters without subgroups: matmul, softmax, matmul' },
  } satisfies Record<string, Variant<AttentionProblem>>,
  gru: {
    subgroup: {
      file: 'gru.subgroup.wgsl', source: gruSubgroup, entries: ['main', 'backward'], subgroups: true,
      when: 'CPU adapters with 8-lane subgroups and H a multiple of 4: 8 sequences per workgroup share every W_hh load',
      supports: (p) => hasSubgroupsOf8() && p.hidden % 4 === 0 && p.hidden / 4 <= deviceInfo().limits.maxComputeInvocationsPerWorkgroup,
      prefers: isCpu,
    },
    plain: { file: 'gru.wgsl', source: gru, entries: ['main', 'backward'], when: 'GPUs: both directions, all steps in one launch, W_hh rows in workgroup memory' },
  } satisfies Record<string, Variant<GruProblem>>,
};

/** A kernel stem: the name shared by its WGSL file, its wrapper, its pipelines and its bench row. */
export type Stem = keyof typeof REGISTRY;
/** The variant names of a stem (`main` for single-variant stems). */
export type VariantName<S extends Stem> = keyof (typeof REGISTRY)[S] & string;
/** What a stem's variant choice looks at (`void` for single-variant stems). */
export type ProblemOf<S extends Stem> = (typeof REGISTRY)[S] extends Record<string, Variant<infer C>> ? C : never;

/** A variant of any stem (its problem type erased). */
export type AnyVariant = Variant<never>;
function variantsOf(stem: Stem): Record<string, AnyVariant> {
  return REGISTRY[stem] as Record<string, AnyVariant>;
}

const kernels = new Map<string, Kernel>();
/**
 * The kernel of a stem's variant. Its label (what Dawn prints and the profiler reports) is the
 * file name without `.wgsl`: `matmul`, `matmul.subgroup`, …
 */
export function kernel<S extends Stem>(stem: S, variant?: VariantName<S>): Kernel {
  // Called on every dispatch: one map lookup when cached.
  const key = variant ? `${stem}/${variant}` : stem;
  let k = kernels.get(key);
  if (!k) {
    const name = variant ?? Object.keys(variantsOf(stem))[0]!;
    const v = variantsOf(stem)[name];
    if (!v?.file) throw new Error(`kernel registry: ${stem} has no WGSL variant "${name}"`);
    k = { stem: v.file.replace(/\.wgsl$/, ''), source: v.source };
    kernels.set(key, k);
  }
  return k;
}

const forced = new Map<Stem, string>();

/**
 * Forces a stem's variant (tests, benchmarks); `null` restores the automatic choice. A forced
 * variant that cannot run a given problem falls back to the automatic choice for it.
 */
export function forceVariant<S extends Stem>(stem: S, variant: VariantName<S> | null): void {
  if (variant === null) {
    forced.delete(stem);
    return;
  }
  if (!(variant in variantsOf(stem))) throw new Error(`forceVariant: ${stem} has no variant "${variant}"; it has ${Object.keys(variantsOf(stem)).join(', ')}`);
  forced.set(stem, variant);
}

/** The variant forced for a stem, if any. */
export function forcedVariant<S extends Stem>(stem: S): VariantName<S> | null {
  return (forced.get(stem) as VariantName<S> | undefined) ?? null;
}

/**
 * The variant that runs a problem: the forced one if it supports the problem, else the first in
 * table order that supports it and is preferred on this adapter, else the last that supports it.
 */
export function chooseVariant<S extends Stem>(stem: S, problem: ProblemOf<S>): VariantName<S> {
  const table = variantsOf(stem);
  const ok = (v: AnyVariant): boolean => !v.supports || (v.supports as (p: unknown) => boolean)(problem);
  const f = forced.get(stem);
  if (f && ok(table[f]!)) return f as VariantName<S>;
  const names = Object.keys(table);
  const pick = names.find((n) => ok(table[n]!) && (!table[n]!.prefers || (table[n]!.prefers as (p: unknown) => boolean)(problem))) ??
    names.filter((n) => ok(table[n]!)).at(-1);
  if (!pick) throw new Error(`kernel registry: no ${stem} variant supports ${JSON.stringify(problem)}`);
  return pick as VariantName<S>;
}

/** Every (stem, variant) with a WGSL file, for the tests that walk the table. */
export function registryEntries(): Array<{ stem: Stem; variant: string } & AnyVariant> {
  return (Object.keys(REGISTRY) as Stem[]).flatMap((stem) => Object.entries(variantsOf(stem)).map(([variant, v]) => ({ stem, variant, ...v })));
}
