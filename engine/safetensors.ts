// Strict safetensors reader (lazy, bounds-checked) and deterministic atomic writer.
// Format: u64 little-endian header length N, N bytes of JSON header, then the data section.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, writeFileAtomic } from '../common/index.js';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './float-convert.js';

export type Dtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_SIZE: Readonly<Record<Dtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** The same limit as the reference implementation: a larger header is corrupt or hostile. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  dtype: Dtype;
  shape: number[];
}

interface TensorEntry extends TensorInfo {
  begin: number;
  end: number;
}

export type TensorData = Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array | Float32Array | Float64Array | BigInt64Array;

export interface TensorToWrite {
  name: string;
  dtype: Dtype;
  shape: readonly number[];
  /** Raw little-endian bytes of the dtype, or a Float32Array that is converted to F16/BF16 when dtype says so. */
  data: TensorData;
}

const READ_CHUNK = 1 << 30; // fs.readSync reads at most 2 GiB per call

function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, s);
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private fd: number | undefined,
    private readonly dataStart: number,
    private readonly entries: Map<string, TensorEntry>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  /** Opens and validates the header; tensor bytes are read only when asked for. */
  static open(file: string): SafetensorsFile {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      throw new UserError(`cannot open safetensors file "${file}": ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw new UserError(`safetensors file "${file}" is not a regular file`);
      const { entries, metadata, dataStart } = parseHeader(fd, stat.size, path.basename(file));
      return new SafetensorsFile(file, fd, dataStart, entries, metadata);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  info(name: string): TensorInfo {
    const { dtype, shape } = this.entry(name);
    return { dtype, shape: [...shape] };
  }

  /** The tensor's raw bytes in a fresh, unpooled buffer (so typed-array views are aligned). */
  bytes(name: string): Buffer {
    const { begin, end } = this.entry(name);
    const fd = this.openFd();
    const out = Buffer.allocUnsafeSlow(end - begin);
    for (let done = 0; done < out.length;) {
      const want = Math.min(READ_CHUNK, out.length - done);
      const n = fs.readSync(fd, out, done, want, this.dataStart + begin + done);
      if (n === 0) throw new UserError(`${path.basename(this.path)}: file shrank while reading tensor "${name}"`);
      done += n;
    }
    return out;
  }

  /** The tensor as float32, converting from F16, BF16 or F64. */
  float32(name: string): Float32Array {
    const { dtype } = this.entry(name);
    const raw = this.bytes(name);
    switch (dtype) {
      case 'F32':
        return new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
      case 'F16':
        return f16ToF32(new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2));
      case 'BF16':
        return bf16ToF32(new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2));
      case 'F64':
        return Float32Array.from(new Float64Array(raw.buffer, raw.byteOffset, raw.length / 8));
      default:
        throw new UserError(`${path.basename(this.path)}: tensor "${name}" has dtype ${dtype}, expected a float type`);
    }
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private entry(name: string): TensorEntry {
    const e = this.entries.get(name);
    if (!e) throw new UserError(`${path.basename(this.path)}: no tensor named "${name}"`);
    return e;
  }

  private openFd(): number {
    if (this.fd === undefined) throw new Error(`safetensors file ${this.path} is closed`);
    return this.fd;
  }
}

function readExactly(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.allocUnsafeSlow(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

function parseHeader(fd: number, fileSize: number, label: string) {
  const fail = (problem: string): never => {
    throw new UserError(`${label}: ${problem}`);
  };
  if (fileSize < 8) fail(`not a safetensors file (${fileSize} bytes, shorter than the 8-byte header length)`);
  const headerLen64 = readExactly(fd, 8, 0).readBigUInt64LE(0);
  if (headerLen64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLen64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLen = Number(headerLen64);
  if (headerLen > fileSize - 8) fail(`header length ${headerLen} runs past the end of the file (${fileSize} bytes): truncated or corrupt`);
  const text = readExactly(fd, headerLen, 8).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('header is not a JSON object');

  const dataStart = 8 + headerLen;
  const dataSize = fileSize - dataStart;
  const entries = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json as object)) {
    if (name === '__metadata__') metadata = parseMetadata(value, fail);
    else entries.set(name, parseEntry(name, value, dataSize, fail));
  }
  checkLayout(entries, dataSize, fail);
  return { entries, metadata, dataStart };
}

function parseMetadata(value: unknown, fail: (p: string) => never): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('__metadata__ is not an object');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as object)) {
    if (typeof v !== 'string') fail(`__metadata__ value for "${k}" is not a string`);
    out[k] = v;
  }
  return out;
}

function parseEntry(name: string, value: unknown, dataSize: number, fail: (p: string) => never): TensorEntry {
  const where = `tensor "${name}"`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${where} entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (!isDtype(dtype)) fail(`${where} has unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`${where} shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail(`${where} data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
  }
  const [begin, end] = offsets as number[];
  const dims = shape as number[];
  if (begin > end) fail(`${where} data_offsets [${begin}, ${end}] begin after they end`);
  if (end > dataSize) fail(`${where} data_offsets [${begin}, ${end}] run past the data section (${dataSize} bytes): truncated or corrupt`);
  const expected = elementCount(dims) * DTYPE_SIZE[dtype];
  if (end - begin !== expected) {
    fail(`${where} data_offsets [${begin}, ${end}] do not match shape [${dims.join(', ')}] of ${dtype} (${expected} bytes)`);
  }
  return { dtype, shape: dims, begin, end };
}

/** Tensors must tile the data section exactly: no overlap, no gap, nothing trailing (as the reference library checks). */
function checkLayout(entries: Map<string, TensorEntry>, dataSize: number, fail: (p: string) => never): void {
  const sorted = [...entries].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let cursor = 0;
  let previous = '';
  for (const [name, e] of sorted) {
    if (e.begin < cursor) fail(`tensor "${name}" data_offsets [${e.begin}, ${e.end}] overlap tensor "${previous}"`);
    if (e.begin > cursor) fail(`tensor "${name}" data_offsets [${e.begin}, ${e.end}] leave a gap after byte ${cursor}`);
    cursor = e.end;
    previous = name;
  }
  if (cursor !== dataSize) fail(`data section is ${dataSize} bytes but the tensors cover ${cursor}`);
}

// Write order of the reference library: larger dtypes first (keeps every tensor aligned), then by name.
const DTYPE_WRITE_RANK: Readonly<Record<Dtype, number>> = {
  I64: 0,
  F64: 1,
  F32: 2,
  I32: 3,
  BF16: 4,
  F16: 5,
  I16: 6,
  I8: 7,
  U8: 8,
  BOOL: 9,
};

function tensorBytes(t: TensorToWrite): Uint8Array {
  let data: TensorData = t.data;
  if (data instanceof Float32Array && t.dtype === 'F16') data = f32ToF16(data);
  else if (data instanceof Float32Array && t.dtype === 'BF16') data = f32ToBf16(data);
  const expected = elementCount(t.shape) * DTYPE_SIZE[t.dtype];
  if (data.byteLength !== expected) {
    throw new Error(
      `tensor "${t.name}": ${data.byteLength} bytes of data for shape [${t.shape.join(', ')}] of ${t.dtype} (${expected} bytes)`,
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Builds the padded header and the data order, without touching the disk. */
function layout(tensors: readonly TensorToWrite[], metadata?: Record<string, string>) {
  const names = new Set<string>();
  for (const t of tensors) {
    if (t.name === '__metadata__' || names.has(t.name)) throw new Error(`tensor name "${t.name}" is reserved or repeated`);
    names.add(t.name);
  }
  const ordered = [...tensors].sort(
    (a, b) => DTYPE_WRITE_RANK[a.dtype] - DTYPE_WRITE_RANK[b.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    header.__metadata__ = Object.fromEntries(Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of ordered) {
    const bytes = tensorBytes(t);
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Buffer.alloc(Math.ceil(json.length / 8) * 8, 0x20);
  json.copy(padded);
  const lengthPrefix = Buffer.alloc(8);
  lengthPrefix.writeBigUInt64LE(BigInt(padded.length));
  return [lengthPrefix, padded, ...chunks];
}

/** Writes a safetensors file atomically (temp name + rename); identical input gives identical bytes. */
export function writeSafetensors(file: string, tensors: readonly TensorToWrite[], metadata?: Record<string, string>): void {
  const parts = layout(tensors, metadata);
  writeFileAtomic(file, (fd) => {
    for (const part of parts) {
      for (let done = 0; done < part.byteLength;) done += fs.writeSync(fd, part, done, Math.min(READ_CHUNK, part.byteLength - done));
    }
  });
}
