"""Writes test/fixtures/crab_options/ with Debian's PyTorch (python3-torch 1.13): references for
Crab's two options beyond the authors' head.

  layer_mix.safetensors : x [2,3,4,5], w [4]; y = (softmax(w)[None,None,:,None] * x).sum(2);
                          dy; dx, dw = autograd of (y * dy).sum()
  cmt.safetensors       : a 2-layer pre-LN cross-modal transformer (d 8, 2 heads, FFN 12) built
                          from nn.LayerNorm / nn.MultiheadAttention(batch_first) / nn.Sequential
                          under crab-ser's parameter names; S [2,5,8], X [2,4,8], speech lengths
                          [5,3], text lengths [2,4] as key_padding_mask; outputs S_out, X_out;
                          grads of (S_out*dS).sum() + (X_out*dX).sum() w.r.t. S, X and every
                          parameter (prefixed grad.)
Float64 throughout, stored as float32.
Run: /usr/bin/python3 tools/gen_crab_options.py
"""
import os, sys
import numpy as np
import torch
sys.path.insert(0, os.path.dirname(__file__))
import fixture_io  # noqa: E402
from torch import nn

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
out = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'crab_options')
os.makedirs(out, exist_ok=True)

def save(name, tensors, meta):
    fixture_io.save(out, name, tensors, meta, 'tools/gen_crab_options.py')

# Layer mix.
x = torch.randn(2, 3, 4, 5, requires_grad=True)
w = torch.randn(4, requires_grad=True)
y = (torch.softmax(w, 0)[None, None, :, None] * x).sum(2)
dy = torch.randn_like(y)
(y * dy).sum().backward()
save('layer_mix', {'x': x, 'w': w, 'y': y, 'dy': dy, 'dx': x.grad, 'dw': w.grad}, {'call': 'y = (softmax(w)[None,None,:,None] * x).sum(2)'})

# Cross-modal transformer.
def ffn(d, f):
    return nn.Sequential(nn.Linear(d, f), nn.ReLU(), nn.Linear(f, d))

class Layer(nn.Module):
    def __init__(self, d, h, f):
        super().__init__()
        self.speech_attention_norm = nn.LayerNorm(d)
        self.text_attention_norm = nn.LayerNorm(d)
        self.speech_attention = nn.MultiheadAttention(d, h, batch_first=True)
        self.text_attention = nn.MultiheadAttention(d, h, batch_first=True)
        self.speech_ffn_norm = nn.LayerNorm(d)
        self.text_ffn_norm = nn.LayerNorm(d)
        self.speech_ffn = ffn(d, f)
        self.text_ffn = ffn(d, f)

    def forward(self, S, X, spad, tpad):
        s, x = self.speech_attention_norm(S), self.text_attention_norm(X)
        S1 = S + self.speech_attention(s, x, x, key_padding_mask=tpad, need_weights=False)[0]
        X1 = X + self.text_attention(x, s, s, key_padding_mask=spad, need_weights=False)[0]
        return S1 + self.speech_ffn(self.speech_ffn_norm(S1)), X1 + self.text_ffn(self.text_ffn_norm(X1))

class CMT(nn.Module):
    def __init__(self, n, d, h, f):
        super().__init__()
        self.layers = nn.ModuleList([Layer(d, h, f) for _ in range(n)])
        self.speech_norm = nn.LayerNorm(d)
        self.text_norm = nn.LayerNorm(d)

    def forward(self, S, X, spad, tpad):
        for l in self.layers:
            S, X = l(S, X, spad, tpad)
        return self.speech_norm(S), self.text_norm(X)

m = CMT(2, 8, 2, 12)
with torch.no_grad():  # non-trivial norms and biases, so every parameter matters
    for n, p in m.named_parameters():
        if 'norm' in n or 'bias' in n:
            p.add_(0.1 * torch.randn_like(p))
S = torch.randn(2, 5, 8, requires_grad=True)
X = torch.randn(2, 4, 8, requires_grad=True)
slen, tlen = [5, 3], [2, 4]
spad = torch.tensor([[t >= L for t in range(5)] for L in slen])
tpad = torch.tensor([[t >= L for t in range(4)] for L in tlen])
So, Xo = m(S, X, spad, tpad)
dS, dX = torch.randn_like(So), torch.randn_like(Xo)
((So * dS).sum() + (Xo * dX).sum()).backward()
t = {'S': S, 'X': X, 'S_out': So, 'X_out': Xo, 'dS': dS, 'dX': dX, 'grad.S': S.grad, 'grad.X': X.grad}
for n, p in m.named_parameters():
    t[n] = p
    t['grad.' + n] = p.grad
save('cmt', t, {'layers': 2, 'dim': 8, 'heads': 2, 'ffn': 12, 'speech_lengths': slen, 'text_lengths': tlen})
print('wrote', out)
