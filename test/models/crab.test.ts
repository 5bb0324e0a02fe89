// Crab against the authors' own code (test/fixtures/crab, see its README): the head's forward,
// the five MLCS losses, class weights, total loss and every gradient; three AdamW steps.
import { describe, it, expect } from 'vitest';
import { fromArray, tidy } from '../../src/tensor/tensor.js';
import { Crab, MLCS_LAYERS } from '../../src/model/crab.js';
import { classWeights } from '../../src/kernels/index.js';
import { AdamW } from '../../src/train/optimizer.js';
import { Case } from '../fixture.js';
import { expectClose } from '../helpers.js';
import { backward } from '../../src/kernels/autograd.js';

const RTOL = 1e-4;

function buildHead(c: Case, prefix = ''): Crab {
  const cfg = c.meta.config as Record<string, unknown> | string;
  const conf = typeof cfg === 'string' ? JSON.parse(cfg.replace(/'/g, '"')) : cfg;
  const crab = new Crab({
    speechDim: conf.features1_dim, textDim: conf.features2_dim, numClasses: conf.num_emotions,
    hidden: conf.fusion_hidden_dim, fusionHidden: conf.fusion_hidden_dim, contrastiveDim: conf.contrastive_dim,
    maskPadding: false, // the authors' head takes no masks
  }).eval();
  const names = c.st.names().filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
  const r = crab.loadFrom({ has: (n) => c.has(prefix + n), shape: (n) => c.shape(prefix + n), get: (n) => c.f(prefix + n), names: () => names });
  expect(r.missing).toEqual([]);
  return crab;
}

const pyRepr = (s: unknown): unknown => (typeof s === 'string' ? JSON.parse(s.replace(/'/g, '"')) : s);

describe('crab head vs the authors\' code', () => {
  it('crab head: logits, the five MLCS embeddings and losses, class weights, total loss and every gradient', async () => {
    const c = new Case('crab/head_forward_backward');
    const crab = buildHead(c);
    const speech = fromArray(c.f('in.features1'), c.shape('in.features1'));
    const text = fromArray(c.f('in.features2'), c.shape('in.features2'));
    speech.requiresGrad = text.requiresGrad = true;
    const labels = fromArray(c.i('in.labels'), c.shape('in.labels'), 'i32');
    const w = classWeights(c.i('in.train_labels'), 4, { zeroForMissing: true });
    expectClose(w, c.f('class_weights'), 1e-6, 1e-6, 'class_weights');
    const out = crab.forward({ speech, text }, true, false, true);
    expectClose(await out.logits.toArray(), c.f('out.logits'), c.atol, RTOL, 'logits');
    // The cross-attention weights the authors' head returns.
    expectClose(await out.attention!.speechToText.toArray(), c.f('inter.speech_attention_weights'), c.atol, RTOL, 'speech_attention_weights');
    expectClose(await out.attention!.textToSpeech.toArray(), c.f('inter.text_attention_weights'), c.atol, RTOL, 'text_attention_weights');
    expect(out.attention!.speechToText.shape).toEqual(c.shape('inter.speech_attention_weights'));
    for (const l of MLCS_LAYERS) expectClose(await out.embeddings[l]!.toArray(), c.f(`out.${l}_emb`), c.atol, RTOL, `${l}_emb`);
    const loss = crab.loss(out, labels, fromArray(w));
    expectClose(await loss.ce.toArray(), c.f('loss.cls'), c.atol, RTOL, 'loss.cls');
    for (const l of MLCS_LAYERS) expectClose(await loss.contrastive[l]!.toArray(), c.f(`loss.con.${l}`), c.atol, RTOL, `loss.con.${l}`);
    expectClose(await loss.total.toArray(), c.f('loss.total'), c.atol, RTOL, 'loss.total');
    backward(loss.total);
    expectClose(await speech.grad!.toArray(), c.f('grad.in.features1'), c.atol, RTOL, 'grad.in.features1');
    expectClose(await text.grad!.toArray(), c.f('grad.in.features2'), c.atol, RTOL, 'grad.in.features2');
    let checked = 0;
    for (const [name, p] of crab.namedParameters()) {
      expectClose(await p.grad!.toArray(), c.f(`grad.${name}`), Math.max(c.atol, 1e-6), RTOL, `grad.${name}`);
      checked++;
    }
    expect(checked).toBe(62);
  });

  it('crab AdamW alone: three steps from the recorded gradients match torch.optim.AdamW (lr 1e-3, wd 0.01)', async () => {
    const c = new Case('crab/train_steps');
    const crab = buildHead(c, 'step0.');
    const params = crab.namedParameters();
    const opt = new AdamW([...params.values()], { lr: 1e-3, weightDecay: 0.01 });
    for (let k = 1; k <= 3; k++) {
      for (const [n, p] of params) p.grad = fromArray(c.f(`grad${k}.${n}`), p.shape);
      opt.step();
      for (const [n, p] of params) expectClose(await p.toArray(), c.f(`step${k}.${n}`), 1e-6, RTOL, `step${k}.${n}`);
    }
    for (const [n, p] of params) {
      const { m, v } = opt.moments(p);
      expectClose(await m.toArray(), c.f(`adam.exp_avg.${n}`), 1e-7, RTOL, `exp_avg ${n}`);
      expectClose(await v.toArray(), c.f(`adam.exp_avg_sq.${n}`), 1e-9, RTOL, `exp_avg_sq ${n}`);
    }
  });

  it('crab end to end: three training steps reproduce the losses and the parameters', async () => {
    const c = new Case('crab/train_steps');
    const crab = buildHead(c, 'step0.');
    const params = crab.namedParameters();
    const opt = new AdamW([...params.values()], { lr: 1e-3, weightDecay: 0.01 });
    const w = fromArray(c.f('class_weights'));
    const losses = c.f('loss');
    const sensitive = pyRepr(c.meta.sensitive_entries) as Record<string, number[]>;
    for (let k = 0; k < 3; k++) {
      const labels = fromArray(c.i(`batch${k}.labels`), [6], 'i32');
      const total = tidy(() => {
        const out = crab.forward({ speech: fromArray(c.f(`batch${k}.features1`), c.shape(`batch${k}.features1`)), text: fromArray(c.f(`batch${k}.features2`), c.shape(`batch${k}.features2`)) }, true);
        const l = crab.loss(out, labels, w).total;
        backward(l);
        return l;
      });
      expectClose(await total.toArray(), [losses[k]!], 5e-6, RTOL, `loss[${k}]`);
      opt.step();
      opt.zeroGrad();
      for (const [n, p] of params) {
        const got = await p.toArray();
        const ref = c.f(`step${k + 1}.${n}`);
        const sens = new Set(sensitive[n] ?? []);
        const lr = 1e-3;
        for (let i = 0; i < ref.length; i++) {
          // README: sensitive entries (|g| ≲ eps) within 2·lr·k; the rest tightly.
          const tol = sens.has(i) ? 2 * lr * (k + 1) : 2e-6 + RTOL * Math.abs(ref[i]!);
          if (Math.abs(got[i]! - ref[i]!) > tol) expect.fail(`step${k + 1}.${n}[${i}]: ${got[i]} vs ${ref[i]} (tol ${tol})`);
        }
      }
    }
  });
});

describe('crab masks', () => {
  it('crab with masks: changing the padding content changes nothing', async () => {
    const crab = new Crab({ speechDim: 6, textDim: 5, numClasses: 3, hidden: 8, fusionHidden: 8, contrastiveDim: 4 }).eval();
    const make = (fill: number): { logits: Promise<Float32Array>; emb: Promise<Float32Array> } => {
      const s = new Float32Array(2 * 7 * 6).map((_, i) => Math.sin(i));
      const t = new Float32Array(2 * 4 * 5).map((_, i) => Math.cos(i));
      for (let i = 4 * 6; i < 7 * 6; i++) s[i] = fill; // item 0: 4 of 7 frames valid
      for (let i = 4 * 5 + 2 * 5; i < 8 * 5; i++) t[i] = fill; // item 1: 2 of 4 tokens valid
      const out = crab.forward({ speech: fromArray(s, [2, 7, 6]), text: fromArray(t, [2, 4, 5]), speechLengths: [4, 7], textLengths: [4, 2] }, true);
      return { logits: out.logits.toArray() as Promise<Float32Array>, emb: out.embeddings.speech_frame!.toArray() as Promise<Float32Array> };
    };
    const a = make(0);
    const b = make(123.5);
    expectClose(await a.logits, await b.logits, 1e-6, 1e-6, 'logits');
    expectClose(await a.emb, await b.emb, 1e-6, 1e-6, 'speech frame embedding');
  });
  it('crab with mlcsLayers = [] trains the baseline: the loss is the weighted CE alone', async () => {
    const crab = new Crab({ speechDim: 6, textDim: 5, numClasses: 3, hidden: 8, fusionHidden: 8, contrastiveDim: 4, mlcsLayers: [] }).eval();
    const out = crab.forward({ speech: fromArray(new Float32Array(2 * 3 * 6).fill(0.1), [2, 3, 6]), text: fromArray(new Float32Array(2 * 2 * 5).fill(0.2), [2, 2, 5]) }, true);
    expect(Object.keys(out.embeddings)).toEqual([]);
    const l = crab.loss(out, fromArray([0, 2], [2], 'i32'), null);
    expect(l.total).toBe(l.ce);
    expect(Number.isFinite(await l.total.item())).toBe(true);
  });
});


describe('cross-attention vs nn.MultiheadAttention', () => {
  for (const name of ['cross_attention', 'cross_attention_kpm']) {
    it(`${name}: output, the returned attention weights and every gradient (query, key = value, parameters)`, async () => {
      const { MultiheadAttention } = await import('../../src/model/mha.js');
      const { Rng } = await import('../../src/tensor/tensor.js');
      const { mul, sum } = await import('../../src/kernels/index.js');
      const c = new Case(`crab/${name}`);
      const [B, T, E] = c.shape('in.query') as [number, number, number];
      const S = c.shape('in.kv')[1]!;
      const mha = new MultiheadAttention(E, 1, 0.5, new Rng(0)).eval();
      const keys = ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias'];
      expect(mha.loadFrom({ has: (n) => c.has(n), shape: (n) => c.shape(n), get: (n) => c.f(n), names: () => keys }).missing).toEqual([]);
      const q = fromArray(c.f('in.query'), [B, T, E]);
      const kv = fromArray(c.f('in.kv'), [B, S, E]);
      q.requiresGrad = kv.requiresGrad = true;
      const kpm = c.has('in.key_padding_mask') ? fromArray(Float32Array.from(c.i('in.key_padding_mask')), [B, S]) : null;
      const { out, weights } = mha.forward(q, kv, kv, kpm, true);
      expectClose(await out.toArray(), c.f('out.attn_output'), c.atol, RTOL, 'attn_output');
      expectClose(await weights.toArray(), c.f('out.attn_weights'), c.atol, RTOL, 'attn_weights');
      backward(sum(mul(out, fromArray(c.f('in.dy'), [B, T, E]))));
      expectClose(await q.grad!.toArray(), c.f('grad.query'), c.atol, RTOL, 'grad.query');
      expectClose(await kv.grad!.toArray(), c.f('grad.kv'), c.atol, RTOL, 'grad.kv');
      for (const [n, p] of mha.namedParameters()) expectClose(await p.grad!.toArray(), c.f(`grad.${n}`), Math.max(c.atol, 1e-6), RTOL, `grad.${n}`);
    });
  }
});
