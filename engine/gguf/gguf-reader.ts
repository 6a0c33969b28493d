// Strict, lazy GGUF v2/v3 reader. We write our own because no maintained JavaScript GGUF library is a
// dependency of ours (node-llama-cpp's readGgufFileInfo is optional and reads metadata only; the tests use
// it as an independent check). The header is read through a small window so a multi-GiB file is never
// held in memory; every count, length and offset is checked against the file size before it is trusted.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../common/index.js';
import { GGML_BLOCK, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GgmlType, GgufValueType, KEY, VALUE_SIZE, ggmlTypeName } from './gguf-format.js';

export type GgufScalar = number | bigint | boolean | string;
export interface GgufArray {
  itemType: GgufValueType;
  items: GgufValue[];
}
export type GgufValue = GgufScalar | GgufArray;
export interface GgufKv {
  type: GgufValueType;
  value: GgufValue;
}

export interface GgufTensorInfo {
  name: string;
  /** ggml order: dims[0] is the innermost (contiguous) dimension. */
  dims: number[];
  type: GgmlType;
  /** Absolute byte offset in the file. */
  offset: number;
  byteSize: number;
}

/** Nested arrays deeper than this are corrupt (the format nests them, real files never more than once). */
const MAX_ARRAY_DEPTH = 4;
const MAX_DIMS = 4;
const WINDOW = 1 << 20;

class Cursor {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  pos = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly label: string,
  ) {}

  fail(problem: string): never {
    throw new UserError(`${this.label}: ${problem}`);
  }

  /** Makes `n` bytes at `pos` available in `buf`; a read past the end means the file is truncated or a count lies. */
  private need(n: number, what: string): number {
    if (n > this.size - this.pos)
      this.fail(`truncated: ${what} at byte ${this.pos} needs ${n} bytes, the file has ${this.size - this.pos} left`);
    const at = this.pos - this.bufStart;
    if (at >= 0 && at + n <= this.buf.length) return at;
    const len = Math.min(Math.max(n, WINDOW), this.size - this.pos);
    this.buf = Buffer.allocUnsafe(len);
    for (let done = 0; done < len;) {
      const got = fs.readSync(this.fd, this.buf, done, len - done, this.pos + done);
      if (got === 0) this.fail('file shrank while reading');
      done += got;
    }
    this.bufStart = this.pos;
    return 0;
  }

  remaining(): number {
    return this.size - this.pos;
  }

  u32(what: string): number {
    const at = this.need(4, what);
    this.pos += 4;
    return this.buf.readUInt32LE(at);
  }

  /** A u64 as a number; anything past 2^53 cannot be a real count or offset in a file we can read. */
  u64(what: string): number {
    const at = this.need(8, what);
    this.pos += 8;
    const v = this.buf.readBigUInt64LE(at);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} is ${v}, far beyond the file's ${this.size} bytes`);
    return Number(v);
  }

  string(what: string): string {
    const len = this.u64(`length of ${what}`);
    const at = this.need(len, what);
    this.pos += len;
    return this.buf.toString('utf8', at, at + len);
  }

  scalar(type: GgufValueType, what: string): GgufScalar {
    if (type === GgufValueType.STRING) return this.string(what);
    const size = VALUE_SIZE[type];
    if (size === undefined) this.fail(`${what} has unknown value type ${type}`);
    const at = this.need(size, what);
    this.pos += size;
    const b = this.buf;
    switch (type) {
      case GgufValueType.UINT8:
        return b.readUInt8(at);
      case GgufValueType.INT8:
        return b.readInt8(at);
      case GgufValueType.UINT16:
        return b.readUInt16LE(at);
      case GgufValueType.INT16:
        return b.readInt16LE(at);
      case GgufValueType.UINT32:
        return b.readUInt32LE(at);
      case GgufValueType.INT32:
        return b.readInt32LE(at);
      case GgufValueType.FLOAT32:
        return b.readFloatLE(at);
      case GgufValueType.FLOAT64:
        return b.readDoubleLE(at);
      case GgufValueType.BOOL: {
        const v = b.readUInt8(at);
        if (v > 1) this.fail(`${what} is a bool with byte value ${v}`);
        return v === 1;
      }
      case GgufValueType.UINT64:
        return narrow(b.readBigUInt64LE(at));
      case GgufValueType.INT64:
        return narrow(b.readBigInt64LE(at));
      default:
        return this.fail(`${what} has unknown value type ${type}`);
    }
  }

  value(type: GgufValueType, what: string, depth = 0): GgufValue {
    if (type !== GgufValueType.ARRAY) return this.scalar(type, what);
    if (depth >= MAX_ARRAY_DEPTH) this.fail(`${what} nests arrays more than ${MAX_ARRAY_DEPTH} deep`);
    const itemType = this.u32(`item type of ${what}`) as GgufValueType;
    if (!(itemType in GgufValueType)) this.fail(`${what} is an array of unknown value type ${itemType}`);
    const count = this.u64(`count of ${what}`);
    // The smallest item is 1 byte (8 for a string's length): a count the rest of the file cannot hold is a lie.
    const minItem = VALUE_SIZE[itemType] ?? 8;
    if (count * minItem > this.remaining())
      this.fail(`${what} claims ${count} items, more than the ${this.remaining()} bytes left can hold`);
    const items: GgufValue[] = new Array(count);
    for (let i = 0; i < count; i++) items[i] = this.value(itemType, what, depth + 1);
    return { itemType, items };
  }
}

function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export class GgufFile {
  private constructor(
    readonly path: string,
    private fd: number | undefined,
    readonly version: number,
    readonly metadata: ReadonlyMap<string, GgufKv>,
    private readonly tensorMap: ReadonlyMap<string, GgufTensorInfo>,
    readonly alignment: number,
    readonly dataStart: number,
  ) {}

  /** Parses and checks the header; tensor bytes are read only when asked for. */
  static open(file: string): GgufFile {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      throw new UserError(`cannot open GGUF file "${file}": ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw new UserError(`GGUF file "${file}" is not a regular file`);
      const h = parseHeader(new Cursor(fd, stat.size, path.basename(file)));
      return new GgufFile(file, fd, h.version, h.metadata, h.tensors, h.alignment, h.dataStart);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  tensors(): GgufTensorInfo[] {
    return [...this.tensorMap.values()];
  }

  has(name: string): boolean {
    return this.tensorMap.has(name);
  }

  tensor(name: string): GgufTensorInfo {
    const t = this.tensorMap.get(name);
    if (!t) throw new UserError(`${path.basename(this.path)}: no tensor named "${name}"`);
    return t;
  }

  get(key: string): GgufValue | undefined {
    return this.metadata.get(key)?.value;
  }

  /** The tensor's raw bytes in a fresh buffer. */
  bytes(name: string): Buffer {
    const t = this.tensor(name);
    return this.readAt(t.offset, t.byteSize, name);
  }

  /** `length` bytes at `offset` of tensor `name` (for reading one row range of a big tensor). */
  readAt(offset: number, length: number, name: string): Buffer {
    if (this.fd === undefined) throw new Error(`GGUF file ${this.path} is closed`);
    const out = Buffer.allocUnsafeSlow(length);
    for (let done = 0; done < length;) {
      const n = fs.readSync(this.fd, out, done, Math.min(1 << 30, length - done), offset + done);
      if (n === 0) throw new UserError(`${path.basename(this.path)}: file shrank while reading tensor "${name}"`);
      done += n;
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Byte size of a tensor of `type` with ggml dims; checks the row is a whole number of blocks. */
export function tensorByteSize(type: GgmlType, dims: readonly number[], fail: (p: string) => never): number {
  const block = GGML_BLOCK[type];
  if (!block) fail(`unknown ggml type ${type}`);
  const [blockElems, blockBytes] = block;
  if (dims[0] % blockElems !== 0)
    fail(`its row of ${dims[0]} elements is not a whole number of ${ggmlTypeName(type)} blocks of ${blockElems}`);
  let n = 1;
  for (const d of dims) n *= d;
  if (!Number.isSafeInteger(n)) fail(`its dims [${dims.join(', ')}] are too large`);
  return (n / blockElems) * blockBytes;
}

function parseHeader(c: Cursor): {
  version: number;
  metadata: Map<string, GgufKv>;
  tensors: Map<string, GgufTensorInfo>;
  alignment: number;
  dataStart: number;
} {
  if (c.size < 24) c.fail(`truncated: ${c.size} bytes is shorter than a GGUF header`);
  const magic = c.u32('magic');
  if (magic !== GGUF_MAGIC) c.fail('not a GGUF file (bad magic)');
  const version = c.u32('version');
  if (version !== 2 && version !== 3) c.fail(`GGUF version ${version} is not supported (2 and 3 are)`);
  const tensorCount = c.u64('tensor count');
  const kvCount = c.u64('metadata count');
  // Each key-value pair takes at least 12 bytes, each tensor info at least 28: check before looping.
  if (kvCount * 12 + tensorCount * 28 > c.remaining())
    c.fail(`claims ${kvCount} metadata entries and ${tensorCount} tensors, more than the file can hold`);
  const metadata = new Map<string, GgufKv>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.string(`metadata key ${i}`);
    if (metadata.has(key)) c.fail(`metadata key "${key}" appears twice`);
    const type = c.u32(`type of "${key}"`) as GgufValueType;
    if (!(type in GgufValueType)) c.fail(`metadata "${key}" has unknown value type ${type}`);
    metadata.set(key, { type, value: c.value(type, `metadata "${key}"`) });
  }
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const align = metadata.get(KEY.alignment);
  if (align) {
    const v = align.value;
    if (align.type !== GgufValueType.UINT32 || typeof v !== 'number' || v === 0 || (v & (v - 1)) !== 0) {
      c.fail(`${KEY.alignment} must be a power-of-two u32, got ${String(v)}`);
    }
    alignment = v;
  }
  const infos: { name: string; dims: number[]; type: GgmlType; rel: number }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string(`name of tensor ${i}`);
    if (names.has(name)) c.fail(`tensor "${name}" appears twice`);
    names.add(name);
    const nDims = c.u32(`dim count of "${name}"`);
    if (nDims < 1 || nDims > MAX_DIMS) c.fail(`tensor "${name}" has ${nDims} dims (1 to ${MAX_DIMS} allowed)`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(c.u64(`dim ${d} of "${name}"`));
    if (dims.some((d) => d === 0)) c.fail(`tensor "${name}" has a zero dim [${dims.join(', ')}]`);
    const type = c.u32(`type of "${name}"`) as GgmlType;
    const rel = c.u64(`offset of "${name}"`);
    if (rel % alignment !== 0) c.fail(`tensor "${name}" starts at data offset ${rel}, not a multiple of the alignment ${alignment}`);
    infos.push({ name, dims, type, rel });
  }
  const dataStart = Math.ceil(c.pos / alignment) * alignment;
  if (tensorCount > 0 && dataStart > c.size)
    c.fail(`truncated: the data section would start at byte ${dataStart}, past the end (${c.size})`);
  const tensors = new Map<string, GgufTensorInfo>();
  for (const { name, dims, type, rel } of infos) {
    const byteSize = tensorByteSize(type, dims, (p) => c.fail(`tensor "${name}": ${p}`));
    const offset = dataStart + rel;
    if (offset + byteSize > c.size)
      c.fail(`tensor "${name}" (${byteSize} bytes at ${offset}) runs past the end of the file (${c.size} bytes)`);
    tensors.set(name, { name, dims, type, offset, byteSize });
  }
  const sorted = [...tensors.values()].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (prev.offset + prev.byteSize > sorted[i].offset) c.fail(`tensors "${prev.name}" and "${sorted[i].name}" overlap`);
  }
  return { version, metadata, tensors, alignment, dataStart };
}
