"""PyTorch CPU peer for `npm run bench -- roberta|wavlm`: the same shapes built from torch.nn.

Prints one JSON line: {"forward_ms": ..., "train_ms": ..., "threads": ..., "saved_bytes": ...}, where
saved_bytes is what autograd keeps for the backward after the forward (the storages of every
tensor saved for backward, each counted once, parameters excluded): the activation memory.
usage: python3 torch_models.py roberta B T | wavlm B SECONDS
"""
import json, os, sys, time
import torch
from torch import nn

torch.manual_seed(0)
torch.set_num_threads(os.cpu_count() or 1)  # Debian's build otherwise starts with 1 thread here
kind = sys.argv[1]

def layer(d, h, f):
    return nn.TransformerEncoderLayer(d, h, f, dropout=0.0, activation='gelu', batch_first=True, norm_first=False)

if kind == 'roberta':
    B, T = int(sys.argv[2]), int(sys.argv[3])
    emb = nn.Embedding(50265, 768)
    enc = nn.TransformerEncoder(layer(768, 12, 3072), 12, enable_nested_tensor=False)
    ids = torch.randint(3, 50265, (B, T))
    def run():
        return enc(emb(ids))
    params = list(emb.parameters()) + list(enc.parameters())
else:
    B, S = int(sys.argv[2]), float(sys.argv[3])
    convs = [nn.Conv1d(1, 512, 10, 5, bias=False)] + [nn.Conv1d(512, 512, k, 2, bias=False) for k in (3, 3, 3, 3, 2, 2)]
    feat = nn.Sequential(*[m for c in convs for m in (c, nn.GELU())])
    proj = nn.Sequential(nn.LayerNorm(512), nn.Linear(512, 768))
    pos = nn.Conv1d(768, 768, 128, padding=64, groups=16)
    enc = nn.TransformerEncoder(layer(768, 12, 3072), 12, enable_nested_tensor=False)
    wave = torch.randn(B, 1, int(16000 * S))
    def run():
        x = proj(feat(wave).transpose(1, 2))
        x = x + nn.functional.gelu(pos(x.transpose(1, 2))[..., :-1]).transpose(1, 2)
        return enc(x)
    params = [p for m in (feat, proj, pos, enc) for p in m.parameters()]

def timed(f, reps=3):
    f()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2] * 1000

with torch.no_grad():
    fwd = timed(run)
def train_step():
    for p in params: p.grad = None
    run().square().mean().backward()
tr = timed(train_step)

def saved_bytes():
    storages = {}
    def pack(t):
        st = t.storage()
        storages[st.data_ptr()] = st.nbytes()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = run().square().mean()
    weights = {p.storage().data_ptr() for p in params}
    del loss
    return sum(n for ptr, n in storages.items() if ptr not in weights)

print(json.dumps({'forward_ms': fwd, 'train_ms': tr, 'threads': torch.get_num_threads(), 'torch': torch.__version__, 'saved_bytes': saved_bytes()}))
