"""Writes test/fixtures/torchbin/ with Debian's PyTorch (python3-torch 1.13): real torch.save files.

  roberta/pytorch_model.bin : the weights of test/fixtures/roberta/model.safetensors, saved by torch
  mixed.bin                 : an f16 tensor, an i64 tensor and a transposed (non-contiguous) view
  mixed-deflated.bin        : the same archive re-zipped with deflate (torch.save stores entries;
                              other tools may compress them), to test the inflating readers
  hostile.bin               : a checkpoint whose pickle calls os.system (must be refused, never run)
Run: /usr/bin/python3 tools/gen_torchbin.py
"""
import json, os, struct, shutil, zipfile
import numpy as np
import torch

root = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures')
out = os.path.join(root, 'torchbin')
os.makedirs(os.path.join(out, 'roberta'), exist_ok=True)

def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        dt = {'F32': np.float32, 'I64': np.int64}[e['dtype']]
        b, t = e['data_offsets']
        tensors[name] = torch.from_numpy(np.frombuffer(data[b:t], dtype=dt).reshape(e['shape']).copy())
    return tensors

sd = read_safetensors(os.path.join(root, 'roberta', 'model.safetensors'))
torch.save(sd, os.path.join(out, 'roberta', 'pytorch_model.bin'))
shutil.copy(os.path.join(root, 'roberta', 'config.json'), os.path.join(out, 'roberta', 'config.json'))

g = torch.Generator().manual_seed(7)
base = torch.randn(3, 5, generator=g)
mixed = {
    'half': torch.randn(4, 3, generator=g).half(),
    'ints': torch.arange(6, dtype=torch.int64).reshape(2, 3) - 2,
    'transposed': base.t(),          # stride (1, 5): a view
    'plain': base,
}
torch.save(mixed, os.path.join(out, 'mixed.bin'))
# The expected values, as plain JSON (f32 values of every tensor, row-major).
json.dump({k: {'shape': list(v.shape), 'values': v.float().contiguous().flatten().tolist()} for k, v in mixed.items()},
          open(os.path.join(out, 'mixed.json'), 'w'))

with zipfile.ZipFile(os.path.join(out, 'mixed.bin')) as src, \
        zipfile.ZipFile(os.path.join(out, 'mixed-deflated.bin'), 'w', compression=zipfile.ZIP_DEFLATED) as dst:
    for info in src.infolist():
        dst.writestr(zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0)), src.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)

class Evil:
    def __reduce__(self):
        return (os.system, ('touch /tmp/crab-ser-pwned',))
torch.save({'weight': torch.zeros(2), 'payload': Evil()}, os.path.join(out, 'hostile.bin'))
print('wrote', out)
