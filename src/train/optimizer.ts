/**
 * AdamW with parameter groups and global-norm gradient clipping, on the fused `adamw` kernel.
 * Everything stays on the GPU: clipping computes the norm and its factor as tensors.
 * @module
 */
import { Tensor, noGrad, keep, tidy } from '../tensor/tensor.js';
import { zeros, full } from '../kernels/fill.js';
import { adamwUpdate } from '../kernels/adamw.js';
import { sum, square, sqrt, addScalar, reciprocal, scale, add, minimum } from '../kernels/index.js';
import { upload, readAll } from '../tensor/tensor.js';

/** A group of parameters sharing a learning rate and weight decay. */
export interface ParamGroup {
  params: Tensor[];
  /** Base learning rate (a schedule multiplies it). */
  lr: number;
  weightDecay?: number;
  /** Name for logs, e.g. `head`, `encoders`. */
  name?: string;
}

/** AdamW options; defaults are PyTorch's. */
export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Clip gradients to this global L2 norm (off when undefined). */
  maxGradNorm?: number;
}

/** AdamW (`torch.optim.AdamW` semantics) over parameter groups. */
export class AdamW {
  readonly groups: Array<Required<Omit<ParamGroup, 'name'>> & { name: string; currentLr: number }>;
  readonly opts: Required<Omit<AdamWOptions, 'maxGradNorm'>> & { maxGradNorm?: number };
  /** Steps taken. */
  stepCount = 0;
  private state = new Map<Tensor, { m: Tensor; v: Tensor }>();
  private one: Tensor | null = null;

  constructor(groups: ParamGroup[] | Tensor[], opts: AdamWOptions & { lr?: number } = {}) {
    const gs: ParamGroup[] = groups.length && groups[0] instanceof Tensor ? [{ params: groups as Tensor[], lr: opts.lr ?? 1e-3 }] : (groups as ParamGroup[]);
    this.opts = { beta1: opts.beta1 ?? 0.9, beta2: opts.beta2 ?? 0.999, eps: opts.eps ?? 1e-8, weightDecay: opts.weightDecay ?? 0.01, maxGradNorm: opts.maxGradNorm };
    this.groups = gs.map((g, i) => ({ params: g.params, lr: g.lr, weightDecay: g.weightDecay ?? this.opts.weightDecay, name: g.name ?? `group${i}`, currentLr: g.lr }));
  }

  /** Sets each group's learning rate to base·factor (schedules call this). */
  setLrFactor(factor: number | number[]): void {
    this.groups.forEach((g, i) => (g.currentLr = g.lr * (Array.isArray(factor) ? factor[i]! : factor)));
  }

  /** Moment buffers of a parameter (created on first use). */
  moments(p: Tensor): { m: Tensor; v: Tensor } {
    let s = this.state.get(p);
    if (!s) {
      s = { m: keep(zeros(p.shape)), v: keep(zeros(p.shape)) };
      this.state.set(p, s);
    }
    return s;
  }

  /**
   * The global-norm clipping factor min(1, max/(‖g‖ + 1e-6)) as a 1-element tensor (torch's
   * clip_grad_norm_ rule), and the norm itself.
   */
  clipFactor(maxNorm: number): { factor: Tensor; norm: Tensor } {
    return tidy(() => {
      const params = this.groups.flatMap((g) => g.params).filter((p) => p.grad);
      let total: Tensor = zeros([]);
      for (const p of params) total = add(total, sum(square(p.grad!)));
      const norm = sqrt(total);
      const factor = minimum(scale(reciprocal(addScalar(norm, 1e-6)), maxNorm), full([], 1));
      return { factor: factor.reshape([1]), norm };
    });
  }

  /** One update of every parameter that has a gradient; returns the gradient norm tensor when clipping. */
  step(): Tensor | null {
    this.stepCount++;
    let gscale: Tensor;
    let norm: Tensor | null = null;
    if (this.opts.maxGradNorm !== undefined) {
      const c = this.clipFactor(this.opts.maxGradNorm);
      gscale = c.factor;
      norm = c.norm;
    } else {
      this.one ??= keep(full([1], 1));
      gscale = this.one;
    }
    noGrad(() => {
      for (const g of this.groups) {
        for (const p of g.params) {
          if (!p.grad) continue;
          const { m, v } = this.moments(p);
          adamwUpdate(p, p.grad, m, v, gscale, {
            lr: g.currentLr, beta1: this.opts.beta1, beta2: this.opts.beta2, eps: this.opts.eps, weightDecay: g.weightDecay, step: this.stepCount,
          });
        }
      }
    });
    if (gscale !== this.one) gscale.dispose();
    return norm;
  }

  /** Frees every parameter's gradient (`zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Moments as host arrays, for checkpoints. */
  async stateDict(names: Map<Tensor, string>): Promise<Record<string, Float32Array>> {
    const out: Record<string, Float32Array> = {};
    const entries = [...this.state];
    const data = await readAll(entries.flatMap(([, s]) => [s.m, s.v]));
    entries.forEach(([p], i) => {
      const n = names.get(p) ?? p.name;
      out[`${n}.exp_avg`] = data[2 * i] as Float32Array;
      out[`${n}.exp_avg_sq`] = data[2 * i + 1] as Float32Array;
    });
    return out;
  }

  /** Restores moments saved by {@link stateDict}. */
  loadStateDict(names: Map<Tensor, string>, state: Record<string, Float32Array>, stepCount: number): void {
    this.stepCount = stepCount;
    for (const g of this.groups) for (const p of g.params) {
      const n = names.get(p) ?? p.name;
      const m = state[`${n}.exp_avg`];
      const v = state[`${n}.exp_avg_sq`];
      if (!m || !v) continue;
      const s = this.moments(p);
      upload(s.m, m);
      upload(s.v, v);
    }
  }
}
