"""Writes test/fixtures/finetune/ with Debian's PyTorch (python3-torch 1.13): one training-mode
forward and backward of WavLM (base and large test models) and RoBERTa (test model) with every
dropout Hugging Face applies in training mode switched on, the masks drawn here and saved, so the
engine can be handed the same masks (a test hook) and must then give the same outputs, attention
weights and gradients.

The models are written out below from Hugging Face's modeling_wavlm.py / modeling_roberta.py
semantics (transformers is not packaged for Debian 12), on the weights of test/fixtures/wavlm/*
and test/fixtures/roberta. Each is first run in eval mode and checked against that folder's
io.safetensors (made with PyTorch and cross-checked against transformers upstream), so the
reference is itself anchored to Hugging Face.

Sites and what the saved mask means (1 = keep, unless noted):
  WavLM  feature_projection.dropout            feat_proj_dropout   [B,T,D]
         mask_time_indices (1 = masked)        SpecAugment time spans -> masked_spec_embed
         mask_feature_indices (1 = masked)     SpecAugment feature spans -> 0
         encoder.dropout                       hidden_dropout      [B,T,D]
         encoder.layerdrop (1 = layer runs)    layerdrop           [L]
         encoder.layers.i.attention.dropout    attention_dropout   [B,H,T,T] on the weights
         encoder.layers.i.dropout              hidden_dropout      [B,T,D]
         encoder.layers.i.feed_forward.intermediate_dropout   activation_dropout [B,T,F]
         encoder.layers.i.feed_forward.output_dropout         hidden_dropout     [B,T,D]
  RoBERTa embeddings.dropout, encoder.layer.i.attention.self.dropout [B,H,T,T],
         encoder.layer.i.attention.output.dropout, encoder.layer.i.output.dropout  (hidden / attention probs)
Float64 throughout, stored as float32. Loss: sum(last_hidden_state * R) over valid positions.
Run: /usr/bin/python3 tools/gen_finetune.py
"""
import json, math, os, sys
import numpy as np
import torch
import torch.nn.functional as F
sys.path.insert(0, os.path.dirname(__file__))
import fixture_io  # noqa: E402

torch.set_default_dtype(torch.float64)
fx = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures')
out_dir = os.path.join(fx, 'finetune')
os.makedirs(out_dir, exist_ok=True)


read_st = fixture_io.read_st


def save(name, tensors, meta):
    fixture_io.save(out_dir, name, tensors, meta, 'tools/gen_finetune.py')


class Drops:
    """Every dropout site draws its keep mask here and records it under its module path."""

    def __init__(self, seed, training):
        self.g = torch.Generator().manual_seed(seed)
        self.training = training
        self.masks = {}

    def __call__(self, site, x, p):
        if not self.training or p == 0:
            return x
        m = (torch.rand(x.shape, generator=self.g) >= p).to(x.dtype)
        self.masks[site] = m
        return x * m / (1 - p)

    def spans(self, lengths, T, p, length, min_masks):
        """SpecAugment spans with HF's counting rule (_compute_mask_indices): 1 = masked."""
        m = torch.zeros(len(lengths), T)
        u = torch.rand(1, generator=self.g).item()
        for b, L in enumerate(lengths):
            if L < length:
                continue
            n = max(min_masks, int(p * L / length + u))
            n = min(n, L // length)
            starts = torch.randperm(L - length + 1, generator=self.g)[:n]
            for s in starts.tolist():
                m[b, s:s + length] = 1
        return m


def step_tensors(W, last, valid, hidden, attns, masks):
    """Loss = sum(last * R) over valid positions, backward; what the fixture holds."""
    R = torch.randn(last.shape, generator=torch.Generator().manual_seed(7))
    loss = (last * R * valid).sum()
    loss.backward()
    tensors = {'in.R': R, 'out.loss': loss.reshape(1), 'out.last_hidden_state': last}
    tensors.update({f'out.hidden_states.{i}': t for i, t in enumerate(hidden)})
    tensors.update({f'out.attentions.{i}': a for i, a in enumerate(attns) if a is not None})
    tensors.update({f'mask.{k}': m for k, m in masks.items()})
    tensors.update({f'grad.{k}': t.grad for k, t in W.items() if t.grad is not None})
    return tensors, loss


def check(name, got, want, atol, rtol=1e-3):
    err = (got - want).abs() - (atol + rtol * want.abs())
    assert err.max() <= 0, f'{name}: the reference does not match the fixture (worst excess {err.max().item():.3g})'


# ---------------------------------------------------------------------------------------------
# WavLM

def rel_bucket(rel, num_buckets, max_distance):
    nb = num_buckets // 2
    buckets = (rel > 0).long() * nb
    a = rel.abs()
    max_exact = nb // 2
    large = torch.log(a.float() / max_exact) / math.log(max_distance / max_exact) * (nb - max_exact)
    large = torch.clamp((max_exact + large).long(), max=nb - 1)
    return buckets + torch.where(a < max_exact, a, large)


def frame_len(L, c):
    for k, s in zip(c['conv_kernel'], c['conv_stride']):
        L = (L - k) // s + 1
    return L


def wavlm(W, c, wave, lengths, d):
    B, S = wave.shape
    H = c['num_attention_heads']
    Dm = c['hidden_size']
    Dh = Dm // H
    eps = c['layer_norm_eps']
    x = wave[:, None, :]
    for i in range(len(c['conv_dim'])):
        p = f'feature_extractor.conv_layers.{i}.'
        x = F.conv1d(x, W[p + 'conv.weight'], W.get(p + 'conv.bias'), stride=c['conv_stride'][i])
        if c['feat_extract_norm'] == 'layer':
            x = F.layer_norm(x.transpose(1, 2), (x.shape[1],), W[p + 'layer_norm.weight'], W[p + 'layer_norm.bias']).transpose(1, 2)
        elif i == 0:
            x = F.group_norm(x, x.shape[1], W[p + 'layer_norm.weight'], W[p + 'layer_norm.bias'])
        x = F.gelu(x)
    conv = x.transpose(1, 2)
    T = conv.shape[1]
    fl = [min(T, frame_len(L, c)) for L in lengths]
    valid = torch.zeros(B, T)
    for b, L in enumerate(fl):
        valid[b, :L] = 1
    h = F.layer_norm(conv, (conv.shape[2],), W['feature_projection.layer_norm.weight'], W['feature_projection.layer_norm.bias'], eps)
    h = F.linear(h, W['feature_projection.projection.weight'], W['feature_projection.projection.bias'])
    h = d('feature_projection.dropout', h, c['feat_proj_dropout'])
    if d.training and c['mask_time_prob'] > 0:
        m = d.spans(fl, T, c['mask_time_prob'], c['mask_time_length'], c['mask_time_min_masks'])
        d.masks['mask_time_indices'] = m
        h = torch.where(m[:, :, None] > 0, W['masked_spec_embed'][None, None, :], h)
    if d.training and c['mask_feature_prob'] > 0:
        m = d.spans([Dm] * B, Dm, c['mask_feature_prob'], c['mask_feature_length'], c['mask_feature_min_masks'])
        d.masks['mask_feature_indices'] = m
        h = torch.where(m[:, None, :] > 0, torch.zeros(()), h)
    # Encoder.
    h = h * valid[:, :, None]
    g, v = W['encoder.pos_conv_embed.conv.weight_g'], W['encoder.pos_conv_embed.conv.weight_v']
    K = v.shape[2]
    w = g * v / v.pow(2).sum(dim=(0, 1), keepdim=True).sqrt()
    pc = F.conv1d(h.transpose(1, 2), w, W['encoder.pos_conv_embed.conv.bias'], padding=K // 2, groups=c['num_conv_pos_embedding_groups'])
    if K % 2 == 0:
        pc = pc[:, :, :-1]
    h = h + F.gelu(pc).transpose(1, 2)
    stable = c['do_stable_layer_norm']
    ln = lambda t, p: F.layer_norm(t, (Dm,), W[p + '.weight'], W[p + '.bias'], eps)
    if not stable:
        h = ln(h, 'encoder.layer_norm')
    h = d('encoder.dropout', h, c['hidden_dropout'])
    rel = torch.arange(T)[None, :] - torch.arange(T)[:, None]
    bias = W['encoder.layers.0.attention.rel_attn_embed.weight'][rel_bucket(rel, c['num_buckets'], c['max_bucket_distance'])].permute(2, 0, 1)  # H T T
    kpm = valid == 0
    hidden, attns = [h], []
    keep = []
    for i in range(c['num_hidden_layers']):
        u = torch.rand(1, generator=d.g).item() if d.training else 1.0
        run = not (d.training and i > 0 and u < c['layerdrop'])
        keep.append(1.0 if run else 0.0)
        if run:
            p = f'encoder.layers.{i}.'
            res = h
            a_in = ln(h, p + 'layer_norm') if stable else h
            a, wts = wavlm_attention(W, p + 'attention.', a_in, bias, kpm, H, Dh, c, d)
            attns.append(wts)
            a = d(p + 'dropout', a, c['hidden_dropout'])
            h = res + a
            if not stable:
                h = ln(h, p + 'layer_norm')
            f_in = ln(h, p + 'final_layer_norm') if stable else h
            f = F.gelu(F.linear(f_in, W[p + 'feed_forward.intermediate_dense.weight'], W[p + 'feed_forward.intermediate_dense.bias']))
            f = d(p + 'feed_forward.intermediate_dropout', f, c['activation_dropout'])
            f = F.linear(f, W[p + 'feed_forward.output_dense.weight'], W[p + 'feed_forward.output_dense.bias'])
            f = d(p + 'feed_forward.output_dropout', f, c['hidden_dropout'])
            h = h + f
            if not stable:
                h = ln(h, p + 'final_layer_norm')
        else:
            attns.append(None)
        hidden.append(h)
    if d.training:
        d.masks['encoder.layerdrop'] = torch.tensor(keep)
    if stable:
        h = ln(h, 'encoder.layer_norm')
        hidden[-1] = h
    return h, hidden, attns, conv, fl, valid


def wavlm_attention(W, p, x, bias, kpm, H, Dh, c, d):
    B, T, Dm = x.shape
    gx = x.view(B, T, H, Dh).permute(0, 2, 1, 3)
    proj = F.linear(gx, W[p + 'gru_rel_pos_linear.weight'], W[p + 'gru_rel_pos_linear.bias']).view(B, H, T, 2, 4).sum(-1)
    ga, gb = torch.sigmoid(proj).chunk(2, dim=-1)
    gate = ga * (gb * W[p + 'gru_rel_pos_const'] - 1.0) + 2.0  # B H T 1
    mask = gate * bias[None]  # B H T T
    mask = mask.masked_fill(kpm[:, None, None, :], float('-inf'))
    heads = lambda t: t.view(B, T, H, Dh).permute(0, 2, 1, 3)
    q = heads(F.linear(x, W[p + 'q_proj.weight'], W[p + 'q_proj.bias'])) / math.sqrt(Dh)
    k = heads(F.linear(x, W[p + 'k_proj.weight'], W[p + 'k_proj.bias']))
    v = heads(F.linear(x, W[p + 'v_proj.weight'], W[p + 'v_proj.bias']))
    wts = torch.softmax(q @ k.transpose(-1, -2) + mask, dim=-1)
    wts = d(p + 'dropout', wts, c['attention_dropout'])
    o = (wts @ v).permute(0, 2, 1, 3).reshape(B, T, Dm)
    # HF returns the weights F.multi_head_attention_forward gives: after dropout, averaged over heads.
    return F.linear(o, W[p + 'out_proj.weight'], W[p + 'out_proj.bias']), wts.mean(1)


WAVLM_TRAIN = {'hidden_dropout': 0.1, 'attention_dropout': 0.1, 'activation_dropout': 0.1, 'feat_proj_dropout': 0.1,
               'layerdrop': 0.3, 'mask_time_prob': 0.2, 'mask_time_length': 3, 'mask_time_min_masks': 2,
               'mask_feature_prob': 0.2, 'mask_feature_length': 4, 'mask_feature_min_masks': 0}

for variant in ['base', 'large']:
    folder = os.path.join(fx, 'wavlm', variant)
    c0 = json.load(open(os.path.join(folder, 'config.json')))
    W0 = read_st(os.path.join(folder, 'model.safetensors'))
    io = read_st(os.path.join(folder, 'io.safetensors'))
    wave = io['in.waveform'].to(torch.float64)
    lengths = io['in.lengths'].tolist()
    defaults = {'mask_time_min_masks': 2, 'mask_feature_prob': 0.0, 'mask_feature_length': 10, 'mask_feature_min_masks': 0,
                'activation_dropout': 0.0, 'mask_time_length': 10}
    c = {**defaults, **c0}
    W = {k: t.to(torch.float64).requires_grad_() for k, t in W0.items()}
    # Eval mode against the fixture.
    with torch.no_grad():
        last, *_ , fl, valid = wavlm(W, c, wave, lengths, Drops(0, False))
        T = last.shape[1]
        check(f'wavlm {variant} eval', last * valid[:, :, None], io['out.masked.final'].to(torch.float64) * valid[:, :, None], 1e-4)
    # Training mode with every site on; a seed whose LayerDrop skips some layer but not all.
    ct = {**c, **WAVLM_TRAIN}
    for seed in range(100):
        d = Drops(seed, True)
        last, hidden, attns, conv, fl, valid = wavlm(W, ct, wave, lengths, d)
        kept = d.masks['encoder.layerdrop']
        if 0 < kept.sum() < len(kept) and d.masks['mask_time_indices'].sum() > 0 and d.masks['mask_feature_indices'].sum() > 0:
            break
    tensors, loss = step_tensors(W, last, valid[:, :, None], hidden, attns, d.masks)
    save(f'wavlm_{variant}', tensors, {'config': WAVLM_TRAIN, 'seed': seed, 'frame_lengths': fl, 'layers_run': kept.tolist(),
                                       'sites': sorted(d.masks.keys())})
    print(f'wavlm {variant}: seed {seed}, layers run {kept.tolist()}, {len(d.masks)} masks, loss {loss.item():.6f}')

# ---------------------------------------------------------------------------------------------
# RoBERTa

def roberta(W, c, ids, am, d):
    B, T = ids.shape
    H = c['num_attention_heads']
    Dm = c['hidden_size']
    Dh = Dm // H
    eps = c['layer_norm_eps']
    pad = c['pad_token_id']
    nonpad = (ids != pad).long()
    pos = torch.cumsum(nonpad, 1) * nonpad + pad
    x = W['embeddings.word_embeddings.weight'][ids] + W['embeddings.position_embeddings.weight'][pos] + W['embeddings.token_type_embeddings.weight'][torch.zeros_like(ids)]
    ln = lambda t, p: F.layer_norm(t, (Dm,), W[p + '.weight'], W[p + '.bias'], eps)
    h = d('embeddings.dropout', ln(x, 'embeddings.LayerNorm'), c['hidden_dropout_prob'])
    ext = (1.0 - am[:, None, None, :].to(torch.float64)) * torch.finfo(torch.float64).min
    hidden, attns = [h], []
    heads = lambda t: t.view(B, T, H, Dh).permute(0, 2, 1, 3)
    lin = lambda t, p: F.linear(t, W[p + '.weight'], W[p + '.bias'])
    for i in range(c['num_hidden_layers']):
        p = f'encoder.layer.{i}.'
        q, k, v = heads(lin(h, p + 'attention.self.query')), heads(lin(h, p + 'attention.self.key')), heads(lin(h, p + 'attention.self.value'))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(Dh) + ext, dim=-1)
        probs = d(p + 'attention.self.dropout', probs, c['attention_probs_dropout_prob'])
        attns.append(probs)
        ctx = (probs @ v).permute(0, 2, 1, 3).reshape(B, T, Dm)
        a = ln(d(p + 'attention.output.dropout', lin(ctx, p + 'attention.output.dense'), c['hidden_dropout_prob']) + h, p + 'attention.output.LayerNorm')
        f = F.gelu(lin(a, p + 'intermediate.dense'))
        h = ln(d(p + 'output.dropout', lin(f, p + 'output.dense'), c['hidden_dropout_prob']) + a, p + 'output.LayerNorm')
        hidden.append(h)
    return h, hidden, attns


folder = os.path.join(fx, 'roberta')
c = json.load(open(os.path.join(folder, 'config.json')))
W0 = read_st(os.path.join(folder, 'model.safetensors'))
io = read_st(os.path.join(folder, 'io.safetensors'))
ids = io['in.input_ids'].long()
am = io['in.attention_mask'].long()
W = {k: t.to(torch.float64).requires_grad_() for k, t in W0.items()}
with torch.no_grad():
    last, _, _ = roberta(W, c, ids, am, Drops(0, False))
    vm = am[:, :, None].to(torch.float64)
    check('roberta eval', last * vm, io['out.final'].to(torch.float64) * vm, 1e-4)
ROBERTA_TRAIN = {'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1}
ct = {**c, **ROBERTA_TRAIN}
d = Drops(3, True)
last, hidden, attns = roberta(W, ct, ids, am, d)
tensors, loss = step_tensors(W, last, am[:, :, None], hidden, attns, d.masks)
save('roberta', tensors, {'config': ROBERTA_TRAIN, 'seed': 3, 'sites': sorted(d.masks.keys())})
print(f'roberta: {len(d.masks)} masks, loss {loss.item():.6f}')
