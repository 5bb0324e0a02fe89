"""safetensors in and out for the fixture scripts in tools/ (no safetensors package on Debian 12):
float32 tensors with a JSON sidecar, the format test/fixture.ts reads."""
import json, os, struct
import numpy as np
import torch


def read_st(path):
    """Every tensor of a safetensors file, as torch tensors."""
    with open(path, 'rb') as f:
        b = f.read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n])
    data = b[8 + n:]
    out = {}
    for k, e in h.items():
        if k == '__metadata__':
            continue
        s, t = e['data_offsets']
        dt = {'F32': np.float32, 'I64': np.int64, 'I32': np.int32}[e['dtype']]
        out[k] = torch.from_numpy(np.frombuffer(data[s:t], dtype=dt).reshape(e['shape']).copy())
    return out


def save(out_dir, name, tensors, meta, source):
    """`<out_dir>/<name>.safetensors` (float32) and `<name>.json` (meta)."""
    header, blobs, off = {}, [], 0
    for k, t in tensors.items():
        a = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[k] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [off, off + len(a)]}
        blobs.append(a)
        off += len(a)
    header['__metadata__'] = {'source': source + ', PyTorch ' + torch.__version__}
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(os.path.join(out_dir, name + '.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
    with open(os.path.join(out_dir, name + '.json'), 'w') as f:
        json.dump(meta, f, indent=1)
