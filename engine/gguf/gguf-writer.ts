// GGUF v3 writer: header, metadata, tensor infos, aligned data, written to a temporary name and renamed.
// Tensors are produced one at a time while writing, so a large model is never held whole in memory.
import * as fs from 'node:fs';
import { writeFileAtomic } from '../../common/index.js';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GgmlType, GgufValueType, KEY } from './gguf-format.js';
import { tensorByteSize, type GgufArray, type GgufKv, type GgufValue } from './gguf-reader.js';

export interface GgufTensorToWrite {
  name: string;
  /** ggml order: dims[0] is the innermost dimension (a [out, in] torch weight is [in, out]). */
  dims: number[];
  type: GgmlType;
  /** Called once, in order, while the file is written. */
  bytes(): Uint8Array;
}

/** Builds a metadata list in insertion order. */
export class GgufMetadata {
  readonly entries: [string, GgufKv][] = [];

  set(key: string, type: GgufValueType, value: GgufValue): this {
    const at = this.entries.findIndex(([k]) => k === key);
    if (at >= 0) this.entries.splice(at, 1);
    this.entries.push([key, { type, value }]);
    return this;
  }

  string(key: string, v: string): this {
    return this.set(key, GgufValueType.STRING, v);
  }
  u32(key: string, v: number): this {
    return this.set(key, GgufValueType.UINT32, v);
  }
  f32(key: string, v: number): this {
    return this.set(key, GgufValueType.FLOAT32, v);
  }
  bool(key: string, v: boolean): this {
    return this.set(key, GgufValueType.BOOL, v);
  }
  array(key: string, itemType: GgufValueType, items: GgufValue[]): this {
    return this.set(key, GgufValueType.ARRAY, { itemType, items } satisfies GgufArray);
  }
}

class ByteSink {
  private chunks: Buffer[] = [];
  length = 0;

  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }

  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  string(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }

  value(type: GgufValueType, v: GgufValue, key: string): void {
    const b = Buffer.alloc(8);
    const bad = () => new Error(`GGUF metadata "${key}": ${String(v)} is not a valid ${GgufValueType[type]}`);
    switch (type) {
      case GgufValueType.STRING:
        if (typeof v !== 'string') throw bad();
        return this.string(v);
      case GgufValueType.ARRAY: {
        if (typeof v !== 'object' || !('items' in v)) throw bad();
        this.u32(v.itemType);
        this.u64(v.items.length);
        for (const item of v.items) this.value(v.itemType, item, key);
        return;
      }
      case GgufValueType.BOOL:
        if (typeof v !== 'boolean') throw bad();
        b.writeUInt8(v ? 1 : 0);
        return this.push(b.subarray(0, 1));
      case GgufValueType.UINT64:
        b.writeBigUInt64LE(BigInt(v as number));
        return this.push(b);
      case GgufValueType.INT64:
        b.writeBigInt64LE(BigInt(v as number));
        return this.push(b);
      default:
        break;
    }
    if (typeof v !== 'number') throw bad();
    switch (type) {
      case GgufValueType.UINT8:
        b.writeUInt8(v);
        return this.push(b.subarray(0, 1));
      case GgufValueType.INT8:
        b.writeInt8(v);
        return this.push(b.subarray(0, 1));
      case GgufValueType.UINT16:
        b.writeUInt16LE(v);
        return this.push(b.subarray(0, 2));
      case GgufValueType.INT16:
        b.writeInt16LE(v);
        return this.push(b.subarray(0, 2));
      case GgufValueType.UINT32:
        b.writeUInt32LE(v);
        return this.push(b.subarray(0, 4));
      case GgufValueType.INT32:
        b.writeInt32LE(v);
        return this.push(b.subarray(0, 4));
      case GgufValueType.FLOAT32:
        b.writeFloatLE(v);
        return this.push(b.subarray(0, 4));
      case GgufValueType.FLOAT64:
        b.writeDoubleLE(v);
        return this.push(b);
      default:
        throw bad();
    }
  }

  concat(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  for (let done = 0; done < data.length;) done += fs.writeSync(fd, data, done, data.length - done);
}

/** Writes a GGUF v3 file atomically. `general.alignment` in the metadata, if any, sets the alignment. */
export function writeGguf(file: string, metadata: GgufMetadata, tensors: readonly GgufTensorToWrite[]): void {
  const alignKv = metadata.entries.find(([k]) => k === KEY.alignment)?.[1].value;
  const alignment = typeof alignKv === 'number' ? alignKv : GGUF_DEFAULT_ALIGNMENT;
  const head = new ByteSink();
  head.u32(GGUF_MAGIC);
  head.u32(3);
  head.u64(tensors.length);
  head.u64(metadata.entries.length);
  for (const [key, kv] of metadata.entries) {
    head.string(key);
    head.u32(kv.type);
    head.value(kv.type, kv.value, key);
  }
  const pad = (n: number) => Math.ceil(n / alignment) * alignment;
  const sizes: number[] = [];
  let rel = 0;
  for (const t of tensors) {
    const size = tensorByteSize(t.type, t.dims, (p) => {
      throw new Error(`GGUF tensor "${t.name}": ${p}`);
    });
    sizes.push(size);
    head.string(t.name);
    head.u32(t.dims.length);
    for (const d of t.dims) head.u64(d);
    head.u32(t.type);
    head.u64(rel);
    rel = pad(rel + size);
  }
  const header = head.concat();
  writeFileAtomic(file, (fd) => {
    writeAll(fd, header);
    writeAll(fd, Buffer.alloc(pad(header.length) - header.length));
    tensors.forEach((t, i) => {
      const bytes = t.bytes();
      if (bytes.length !== sizes[i]) throw new Error(`GGUF tensor "${t.name}": ${bytes.length} bytes given, ${sizes[i]} expected`);
      writeAll(fd, bytes);
      if (i < tensors.length - 1) writeAll(fd, Buffer.alloc(pad(bytes.length) - bytes.length));
    });
  });
}
