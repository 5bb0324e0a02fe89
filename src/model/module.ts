/**
 * Modules: parameters and sub-modules found by walking properties, so a property path *is* the
 * parameter's name — chosen to equal Hugging Face's attribute names, which makes `stateDict()`
 * keys equal checkpoint keys without a mapping table.
 * @module
 */
import { Tensor, Rng, fromArray, noGrad, upload, keep, fmt, type HostArray } from '../tensor/tensor.js';
import { linear, layerNorm, embedding, dropout, mul, permute } from '../kernels/index.js';

const PARAMS = new WeakSet<Tensor>();

/** A tensor marked as a parameter (kept out of tidy scopes; trainable until frozen). */
export function param(data: Float32Array, shape: readonly number[], name = ''): Tensor {
  const t = keep(fromArray(data, shape));
  t.requiresGrad = true;
  t.name = name;
  PARAMS.add(t);
  return t;
}

/** True for tensors made by {@link param}. */
export function isParam(t: Tensor): boolean {
  return PARAMS.has(t);
}

/** Uniform(−b, b) values, the PyTorch default init for Linear (b = 1/√fan_in). */
export function uniformInit(n: number, bound: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rng.next() - 1) * bound;
  return a;
}

/** Normal(0, std) values (BERT-style init). */
export function normalInit(n: number, std: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = std * rng.normal();
  return a;
}

/**
 * Training-mode masks by site, from outside the engine: a test hook, so that masks drawn in
 * PyTorch can be given to the engine and both sides compute the same step. A site is a module
 * path (`encoder.layers.3.attention.dropout`) or a model-level decision under its path
 * (`mask_time_indices`, `encoder.layerdrop`); what a mask means is the site's (keep masks for
 * dropout). Undefined: the site draws its own, seeded.
 */
export type MaskSource = (site: string, shape: readonly number[]) => Float32Array | undefined;

let maskSource: MaskSource | null = null;

/** The mask the current {@link MaskSource} gives for a site, if any. */
export function givenMask(site: string, shape: readonly number[]): Float32Array | undefined {
  const m = maskSource?.(site, shape);
  if (m && m.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`mask for ${site}: ${m.length} values for shape ${fmt(shape)}`);
  return m;
}

/** Runs `fn` with training-mode masks taken from `source`; the sites are `model`'s module paths. */
export async function withMasks<T>(model: Module, source: MaskSource, fn: () => T | Promise<T>): Promise<T> {
  model.nameSites();
  const prev = maskSource;
  maskSource = source;
  try {
    return await fn();
  } finally {
    maskSource = prev;
  }
}

/** Base class: parameters, children, train/eval mode, state dicts. */
export abstract class Module {
  /** Training mode (dropout and friends on). */
  training = false;
  /** This module's path from the root it was named from ({@link Module.nameSites}). */
  _site = '';

  /** Names every module by its path from here (the sites of {@link MaskSource}). */
  nameSites(prefix = ''): void {
    this._site = prefix;
    for (const [key, v] of Object.entries(this)) {
      if (key.startsWith('_')) continue;
      const name = prefix ? `${prefix}.${key}` : key;
      if (v instanceof Module) v.nameSites(name);
      else if (Array.isArray(v)) v.forEach((m, i) => m instanceof Module && m.nameSites(`${name}.${i}`));
    }
  }

  /** The site name of a decision this module makes (`mask_time_indices` → `wavlm.mask_time_indices`). */
  site(name: string): string {
    return this._site ? `${this._site}.${name}` : name;
  }

  /** Every parameter by its dotted path (Hugging Face names), in declaration order. */
  namedParameters(prefix = ''): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [key, v] of Object.entries(this)) {
      if (key === 'training' || key.startsWith('_')) continue;
      const name = prefix ? `${prefix}.${key}` : key;
      if (v instanceof Tensor) {
        if (PARAMS.has(v)) out.set(name, v);
      } else if (v instanceof Module) {
        for (const [n, t] of v.namedParameters(name)) out.set(n, t);
      } else if (Array.isArray(v) && v.every((m) => m instanceof Module)) {
        v.forEach((m: Module, i) => {
          for (const [n, t] of m.namedParameters(`${name}.${i}`)) out.set(n, t);
        });
      }
    }
    return out;
  }

  /** This module ('' or `prefix`) and every submodule by dotted path, depth first. */
  namedModules(prefix = ''): Map<string, Module> {
    const out = new Map<string, Module>([[prefix, this]]);
    for (const [key, v] of Object.entries(this)) {
      if (key === 'training' || key.startsWith('_')) continue;
      const name = prefix ? `${prefix}.${key}` : key;
      const subs = v instanceof Module ? [[name, v] as const] : Array.isArray(v) && v.every((m) => m instanceof Module) ? v.map((m: Module, i) => [`${name}.${i}`, m] as const) : [];
      for (const [n, m] of subs) for (const [k, w] of m.namedModules(n)) out.set(k, w);
    }
    return out;
  }

  /** Trainable parameters. */
  parameters(): Tensor[] {
    return [...this.namedParameters().values()].filter((t) => t.requiresGrad);
  }

  /** Number of trainable values. */
  parameterCount(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  /** Sets training mode here and in every child. */
  train(on = true): this {
    this.training = on;
    for (const v of Object.values(this)) {
      if (v instanceof Module) v.train(on);
      else if (Array.isArray(v)) for (const m of v) if (m instanceof Module) m.train(on);
    }
    return this;
  }

  /** Evaluation mode. */
  eval(): this {
    return this.train(false);
  }

  /** Stops gradients to every parameter of this module (e.g. a frozen encoder). */
  freeze(): this {
    for (const p of this.namedParameters().values()) p.requiresGrad = false;
    return this;
  }

  /** Parameters as host arrays. */
  async stateDict(): Promise<Record<string, { shape: number[]; data: HostArray }>> {
    const out: Record<string, { shape: number[]; data: HostArray }> = {};
    for (const [n, t] of this.namedParameters()) out[n] = { shape: [...t.shape], data: await t.toArray() };
    return out;
  }

  /**
   * Copies tensors into the parameters by name. Returns the names that were missing from
   * `source` and those in `source` that match no parameter; wrong shapes are an error listing
   * every mismatch.
   */
  loadFrom(source: { has(n: string): boolean; shape(n: string): number[]; get(n: string): Float32Array; names(): string[] }): { missing: string[]; unexpected: string[] } {
    const params = this.namedParameters();
    const missing: string[] = [];
    const badShape: string[] = [];
    for (const [n, t] of params) {
      if (!source.has(n)) {
        missing.push(n);
        continue;
      }
      const s = source.shape(n);
      if (fmt(s) !== fmt(t.shape)) badShape.push(`${n}: checkpoint ${fmt(s)}, model ${fmt(t.shape)}`);
    }
    if (badShape.length) throw new Error(`shape mismatch for ${badShape.length} tensor(s):\n  ${badShape.join('\n  ')}`);
    noGrad(() => {
      for (const [n, t] of params) if (source.has(n)) upload(t, source.get(n));
    });
    const unexpected = source.names().filter((n) => !params.has(n));
    return { missing, unexpected };
  }
}

/** `nn.Linear`: y = x·Wᵀ + b, W stored [out, in]. */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(inFeatures: number, outFeatures: number, rng: Rng, opts: { bias?: boolean; std?: number } = {}) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    const w = opts.std !== undefined ? normalInit(inFeatures * outFeatures, opts.std, rng) : uniformInit(inFeatures * outFeatures, bound, rng);
    this.weight = param(w, [outFeatures, inFeatures]);
    this.bias = opts.bias === false ? null : param(opts.std !== undefined ? new Float32Array(outFeatures) : uniformInit(outFeatures, bound, rng), [outFeatures]);
  }
  /** `x·Wᵀ + b`; `activation` and `residual` go into the same kernel (see `linear`). */
  forward(x: Tensor, o: { activation?: 'gelu' | null; residual?: Tensor | null } = {}): Tensor {
    return linear(x, this.weight, this.bias, o);
  }
}

/** `nn.LayerNorm` over the last dimension. */
export class LayerNorm extends Module {
  weight: Tensor;
  bias: Tensor;
  constructor(dim: number, readonly eps = 1e-5) {
    super();
    this.weight = param(new Float32Array(dim).fill(1), [dim]);
    this.bias = param(new Float32Array(dim), [dim]);
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** `nn.Embedding`. */
export class Embedding extends Module {
  weight: Tensor;
  constructor(num: number, dim: number, rng: Rng, readonly paddingIdx?: number, std = 1) {
    super();
    const w = normalInit(num * dim, std, rng);
    if (paddingIdx !== undefined) w.fill(0, paddingIdx * dim, (paddingIdx + 1) * dim);
    this.weight = param(w, [num, dim]);
  }
  forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight, this.paddingIdx);
  }
}

/** `nn.Dropout` with a seeded stream: each call draws a fresh seed from `rng`. */
export class Dropout extends Module {
  constructor(readonly p: number, private readonly _rng: Rng) {
    super();
  }
  /** True when {@link forward} returns its input unchanged (eval mode, or p = 0). */
  get identity(): boolean {
    return !this.training || this.p === 0;
  }
  forward(x: Tensor): Tensor {
    if (this.identity) return x;
    const keep = givenMask(this._site, x.shape);
    if (keep) return mul(x, fromArray(keep.map((k) => k / (1 - this.p)), x.shape));
    return dropout(x, this.p, this._rng.nextU32(), true);
  }
}

/**
 * [B, T, H·Dh] → [B, H, T, Dh] (a copy), freeing `t`: a projection's output that only feeds the
 * heads. No backward reads it (the permute's needs no data, the matmul's needs its inputs), so
 * it need not wait for the end of the step — 3 of a layer's tensors fewer held for the backward.
 */
export function splitHeads(t: Tensor, H: number): Tensor {
  const [B, T, D] = t.shape as [number, number, number];
  const view = t.reshape([B, T, H, D / H]);
  const out = permute(view, [0, 2, 1, 3]);
  view.dispose();
  t.dispose();
  return out;
}
