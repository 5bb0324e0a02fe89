/**
 * `pytorch_model.bin` reading without executing anything from the file.
 *
 * The file is a zip archive (`<name>/data.pkl`, `<name>/data/<key>`, …). `data.pkl` is a
 * pickle; a real unpickler would import and call whatever it names, so this one is restricted:
 * it interprets only the opcodes a tensor checkpoint uses and resolves only the globals such a
 * checkpoint needs (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
 * `torch._utils._rebuild_parameter`, storage types). Anything else — `os.system`, `eval`,
 * `builtins.getattr` — is refused with an error naming it, before anything runs.
 * @module
 */
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { halfToFloat } from './safetensors.js';

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** Reads the central directory of a zip file (stored or deflated entries; ZIP64 sizes). */
function readZip(path: string): { entries: Map<string, ZipEntry>; read: (e: ZipEntry) => Buffer; close: () => void } {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  const bad = (why: string): never => {
    closeSync(fd);
    throw new Error(`${path}: not a readable PyTorch checkpoint: ${why}`);
  };
  const tailLen = Math.min(size, 65557);
  const tail = Buffer.alloc(tailLen);
  readSync(fd, tail, 0, tailLen, size - tailLen);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) if (tail.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  if (eocd < 0) bad('no zip end-of-central-directory record (a legacy, pre-1.6 torch.save file, or truncated)');
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOff = tail.readUInt32LE(eocd + 16);
  if (cdOff === 0xffffffff || count === 0xffff) {
    // ZIP64: the locator sits 20 bytes before the EOCD.
    const loc = eocd - 20;
    if (loc < 0 || tail.readUInt32LE(loc) !== 0x07064b50) bad('ZIP64 locator missing');
    const recOff = Number(tail.readBigUInt64LE(loc + 8));
    const rec = Buffer.alloc(56);
    readSync(fd, rec, 0, 56, recOff);
    if (rec.readUInt32LE(0) !== 0x06064b50) bad('ZIP64 end record missing');
    count = Number(rec.readBigUInt64LE(32));
    cdSize = Number(rec.readBigUInt64LE(40));
    cdOff = Number(rec.readBigUInt64LE(48));
  }
  if (cdOff + cdSize > size) bad('central directory past the end of the file (truncated?)');
  const cd = Buffer.alloc(cdSize);
  readSync(fd, cd, 0, cdSize, cdOff);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) bad(`central directory entry ${i} is damaged`);
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let usize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localOffset = cd.readUInt32LE(p + 42);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    // ZIP64 extra field: replaces the 0xffffffff values in order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = cd.readUInt16LE(x);
      const len = cd.readUInt16LE(x + 2);
      if (id === 1) {
        let q = x + 4;
        if (usize === 0xffffffff) { usize = Number(cd.readBigUInt64LE(q)); q += 8; }
        if (compressedSize === 0xffffffff) { compressedSize = Number(cd.readBigUInt64LE(q)); q += 8; }
        if (localOffset === 0xffffffff) localOffset = Number(cd.readBigUInt64LE(q));
      }
      x += 4 + len;
    }
    entries.set(name, { name, method, compressedSize, size: usize, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  const read = (e: ZipEntry): Buffer => {
    const lh = Buffer.alloc(30);
    readSync(fd, lh, 0, 30, e.localOffset);
    if (lh.readUInt32LE(0) !== 0x04034b50) throw new Error(`${path}: entry ${e.name} has no local header`);
    const start = e.localOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
    if (start + e.compressedSize > size) throw new Error(`${path}: entry ${e.name} runs past the end of the file (truncated?)`);
    const raw = Buffer.alloc(e.compressedSize);
    readSync(fd, raw, 0, e.compressedSize, start);
    if (e.method === 0) return raw;
    if (e.method === 8) return inflateRawSync(raw);
    throw new Error(`${path}: entry ${e.name} uses zip compression method ${e.method}`);
  };
  return { entries, read, close: () => closeSync(fd) };
}

const STORAGE_DTYPES: Record<string, { bytes: number; dtype: string }> = {
  FloatStorage: { bytes: 4, dtype: 'F32' }, HalfStorage: { bytes: 2, dtype: 'F16' }, BFloat16Storage: { bytes: 2, dtype: 'BF16' },
  DoubleStorage: { bytes: 8, dtype: 'F64' }, LongStorage: { bytes: 8, dtype: 'I64' }, IntStorage: { bytes: 4, dtype: 'I32' },
  ByteStorage: { bytes: 1, dtype: 'U8' }, BoolStorage: { bytes: 1, dtype: 'BOOL' },
};

interface StorageRef { kind: 'storage'; type: string; key: string; numel: number }
interface TensorRef { kind: 'tensor'; storage: StorageRef; offset: number; shape: number[]; stride: number[] }
type Global = { kind: 'global'; name: string };
type Value = unknown;

const ALLOWED = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter', ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`)]);

/** Interprets a pickle from a tensor checkpoint, refusing anything else. */
function unpickle(buf: Buffer, where: string): Value {
  const stack: Value[] = [];
  const marks: number[] = [];
  const memo = new Map<number, Value>();
  let p = 0;
  const refuse = (what: string): never => {
    throw new Error(`${where}: refusing to load: the pickle ${what}. A tensor checkpoint does not need this, and loading never executes code from a file.`);
  };
  const popMark = (): Value[] => {
    const m = marks.pop();
    if (m === undefined) refuse('is malformed (no MARK)');
    return stack.splice(m!);
  };
  const u8 = (): number => buf[p++]!;
  const u32 = (): number => { const v = buf.readUInt32LE(p); p += 4; return v; };
  const str = (n: number): string => { const s = buf.toString('utf8', p, p + n); p += n; return s; };
  const line = (): string => { const e = buf.indexOf(0x0a, p); if (e < 0) refuse('is malformed (unterminated line)'); const s = buf.toString('latin1', p, e); p = e + 1; return s; };
  while (p < buf.length) {
    const op = u8();
    switch (op) {
      case 0x80: p++; break; // PROTO
      case 0x95: p += 8; break; // FRAME
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x71: memo.set(u8(), stack.at(-1)); break; // BINPUT
      case 0x72: memo.set(u32(), stack.at(-1)); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack.at(-1)); break; // MEMOIZE
      case 0x68: stack.push(memo.get(u8())); break; // BINGET
      case 0x6a: stack.push(memo.get(u32())); break; // LONG_BINGET
      case 0x58: { const n = u32(); stack.push(str(n)); break; } // BINUNICODE
      case 0x8c: { const n = u8(); stack.push(str(n)); break; } // SHORT_BINUNICODE
      case 0x55: { const n = u8(); stack.push(buf.toString('latin1', p, p + n)); p += n; break; } // SHORT_BINSTRING
      case 0x54: { const n = u32(); stack.push(buf.toString('latin1', p, p + n)); p += n; break; } // BINSTRING
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: { stack.push(buf.readUInt16LE(p)); p += 2; break; } // BININT2
      case 0x4a: { stack.push(buf.readInt32LE(p)); p += 4; break; } // BININT
      case 0x8a: { // LONG1
        const n = u8();
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[p + i]!);
        if (n > 0 && buf[p + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        p += n;
        stack.push(Number(v));
        break;
      }
      case 0x47: { stack.push(buf.readDoubleBE(p)); p += 8; break; } // BINFLOAT
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4e: stack.push(null); break; // NONE
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([stack.pop()]); break; // TUPLE1
      case 0x86: { const b = stack.pop(); const a = stack.pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = stack.pop(); const b = stack.pop(); const a = stack.pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x61: { const v = stack.pop(); (stack.at(-1) as Value[]).push(v); break; } // APPEND
      case 0x65: { const items = popMark(); (stack.at(-1) as Value[]).push(...items); break; } // APPENDS
      case 0x73: { const v = stack.pop(); const k = stack.pop(); (stack.at(-1) as Map<Value, Value>).set(k, v); break; } // SETITEM
      case 0x75: { // SETITEMS
        const items = popMark();
        const d = stack.at(-1) as Map<Value, Value>;
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x63: { // GLOBAL
        const name = `${line()}.${line()}`;
        if (!ALLOWED.has(name)) refuse(`references ${name}`);
        stack.push({ kind: 'global', name } satisfies Global);
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const n = stack.pop() as string;
        const m = stack.pop() as string;
        const name = `${m}.${n}`;
        if (!ALLOWED.has(name)) refuse(`references ${name}`);
        stack.push({ kind: 'global', name } satisfies Global);
        break;
      }
      case 0x51: { // BINPERSID: ('storage', storage_type, key, location, numel)
        const pid = stack.pop() as Value[];
        if (!Array.isArray(pid) || pid[0] !== 'storage') refuse('has a persistent id that is not a tensor storage');
        const type = (pid[1] as Global).name?.replace('torch.', '') ?? '';
        if (!(type in STORAGE_DTYPES)) refuse(`has a storage of unknown type ${type}`);
        stack.push({ kind: 'storage', type, key: String(pid[2]), numel: Number(pid[4]) } satisfies StorageRef);
        break;
      }
      case 0x52: { // REDUCE
        const args = stack.pop() as Value[];
        const fn = stack.pop() as Global;
        if (fn?.kind !== 'global') refuse('calls something that is not an allowed global');
        if (fn.name === 'collections.OrderedDict') stack.push(new Map());
        else if (fn.name === 'torch._utils._rebuild_tensor_v2') {
          const [storage, offset, shape, stride] = args as [StorageRef, number, number[], number[]];
          stack.push({ kind: 'tensor', storage, offset, shape: [...shape], stride: [...stride] } satisfies TensorRef);
        } else if (fn.name === 'torch._utils._rebuild_parameter') stack.push(args[0]);
        else refuse(`calls ${fn.name}`);
        break;
      }
      case 0x62: stack.pop(); break; // BUILD: state of an OrderedDict (its _metadata); ignored
      case 0x2e: return stack.pop(); // STOP
      default: refuse(`uses opcode 0x${op.toString(16)}, which tensor checkpoints do not`);
    }
  }
  return refuse('ends without STOP (truncated?)');
}

/** A `pytorch_model.bin` read as named tensors; same interface as a safetensors source. */
export class TorchBinFile {
  private readonly tensors = new Map<string, TensorRef>();
  private readonly zip: ReturnType<typeof readZip>;
  private readonly prefix: string;

  constructor(readonly path: string) {
    this.zip = readZip(path);
    const pkl = [...this.zip.entries.keys()].find((n) => n.endsWith('/data.pkl') || n === 'data.pkl');
    if (!pkl) {
      this.zip.close();
      throw new Error(`${path}: no data.pkl inside the archive`);
    }
    this.prefix = pkl.slice(0, -'data.pkl'.length);
    const root = unpickle(this.zip.read(this.zip.entries.get(pkl)!), path);
    if (!(root instanceof Map)) throw new Error(`${path}: the checkpoint is not a state dict (name → tensor)`);
    for (const [k, v] of root) if ((v as TensorRef)?.kind === 'tensor') this.tensors.set(String(k), v as TensorRef);
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }
  has(n: string): boolean {
    return this.tensors.has(n);
  }
  shape(n: string): number[] {
    const t = this.tensors.get(n);
    if (!t) throw new Error(`${this.path}: no tensor named "${n}"`);
    return t.shape;
  }

  /** One tensor as f32 (F16, BF16, F64 and integers converted; any strides). */
  get(n: string): Float32Array {
    const t = this.tensors.get(n);
    if (!t) throw new Error(`${this.path}: no tensor named "${n}"`);
    const entry = this.zip.entries.get(`${this.prefix}data/${t.storage.key}`);
    if (!entry) throw new Error(`${this.path}: storage ${t.storage.key} of "${n}" is missing from the archive`);
    const { bytes, dtype } = STORAGE_DTYPES[t.storage.type]!;
    const raw = this.zip.read(entry);
    if (raw.length < t.storage.numel * bytes) throw new Error(`${this.path}: storage of "${n}" holds ${raw.length} bytes, fewer than ${t.storage.numel}×${bytes}`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(numel);
    const at = (i: number): number => {
      const o = (t.offset + i) * bytes;
      switch (dtype) {
        case 'F32': return raw.readFloatLE(o);
        case 'F64': return raw.readDoubleLE(o);
        case 'F16': return halfToFloat(raw.readUInt16LE(o));
        case 'BF16': { const b = Buffer.alloc(4); b.writeUInt32LE(raw.readUInt16LE(o) << 16); return b.readFloatLE(0); }
        case 'I64': return Number(raw.readBigInt64LE(o));
        case 'I32': return raw.readInt32LE(o);
        default: return raw[o]!;
      }
    };
    // Walk the logical index through the strides (checkpoints may hold views).
    const nd = t.shape.length;
    const idx = new Array<number>(nd).fill(0);
    for (let i = 0; i < numel; i++) {
      let off = 0;
      for (let d = 0; d < nd; d++) off += idx[d]! * t.stride[d]!;
      if (t.offset + off >= t.storage.numel) throw new Error(`${this.path}: "${n}" reaches past its storage`);
      out[i] = at(off);
      for (let d = nd - 1; d >= 0; d--) {
        if (++idx[d]! < t.shape[d]!) break;
        idx[d] = 0;
      }
    }
    return out;
  }

  close(): void {
    this.zip.close();
  }
}
