/**
 * safetensors files under Node: reading by path (lazily: a tensor's bytes are read when asked for)
 * and atomic writing. The format itself is parsed in `safetensors_core.ts`, which a browser uses
 * on bytes.
 * @module
 */
import { openSync, readSync, closeSync, fstatSync, writeFileSync, renameSync } from 'node:fs';
import { setFileSource, type ByteSource } from './safetensors_core.js';

export * from './safetensors_core.js';

/** Lazy reads of a file (opened per read, so no descriptor outlives a call). */
export function fileByteSource(path: string): ByteSource {
  const fd = openSync(path, 'r');
  let size: number;
  try {
    size = fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
  return {
    size,
    read(begin, end) {
      const buf = Buffer.alloc(end - begin);
      const f = openSync(path, 'r');
      try {
        readSync(f, buf, 0, buf.length, begin);
      } finally {
        closeSync(f);
      }
      return buf;
    },
  };
}

setFileSource(fileByteSource);

/** A tensor to write: f32 or i64 (given as i32 values) data with a shape. */
export interface STWrite {
  dtype: 'F32' | 'I64';
  shape: number[];
  data: Float32Array | Int32Array;
}

/**
 * Writes a safetensors file atomically (to `path.tmp`, then renamed), so an interrupted write
 * never leaves a half file under the real name.
 */
export function writeSafetensors(path: string, tensors: Record<string, STWrite>, metadata: Record<string, string> = {}): void {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let off = 0;
  const parts: Buffer[] = [];
  for (const name of names) {
    const t = tensors[name]!;
    let buf: Buffer;
    if (t.dtype === 'F32') buf = Buffer.from(new Float32Array(t.data).buffer);
    else buf = Buffer.from(BigInt64Array.from(t.data, (x) => BigInt(x)).buffer);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + buf.length] };
    off += buf.length;
    parts.push(buf);
  }
  let json = JSON.stringify(header);
  while ((json.length + 8) % 8) json += ' ';
  const hdr = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hdr.length));
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, Buffer.concat([len, hdr, ...parts]));
  renameSync(tmp, path);
}
