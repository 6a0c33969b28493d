import { closeSync, existsSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { cannotWrite, mkdirp } from '../../common/index.js';
import { onnxTypeCode, type TypedArray } from './dtype.js';
import type { Attr, Graph, Initializer, Node, Value } from './graph.js';
import { ProtoWriter } from './protobuf-writer.js';

export const OPSET = 18;
const IR_VERSION = 8;
/** Tensors at least this large go to the external data file, page-aligned so onnxruntime can map them. */
const EXTERNAL_MIN_BYTES = 1 << 14;
const ALIGN = 4096;

function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function writeShape(w: ProtoWriter, v: Value): void {
  // TypeProto.tensor_type { elem_type, shape { dim { dim_value | dim_param } } }
  w.message(1, (t) => {
    t.varint(1, onnxTypeCode[v.dtype]);
    t.message(2, (s) => {
      for (const d of v.shape) {
        s.message(1, (dim) => (typeof d === 'number' ? dim.varint(1, d) : dim.string(2, d.replace(/[^A-Za-z0-9_]/g, '_'))));
      }
    });
  });
}

function writeValueInfo(w: ProtoWriter, field: number, v: Value): void {
  w.message(field, (vi) => {
    vi.string(1, v.name);
    vi.message(2, (t) => writeShape(t, v));
  });
}

const attrType = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

function writeAttr(w: ProtoWriter, name: string, a: Attr): void {
  w.message(5, (m) => {
    m.string(1, name);
    m.varint(20, attrType[a.kind]);
    switch (a.kind) {
      case 'float':
        m.float(2, a.value);
        break;
      case 'int':
        m.varint(3, a.value);
        break;
      case 'string':
        m.string(4, a.value);
        break;
      case 'floats':
        for (const f of a.value) m.float(7, f);
        break;
      case 'ints':
        for (const i of a.value) m.varint(8, i);
        break;
    }
  });
}

function writeNode(w: ProtoWriter, n: Node, index: number): void {
  w.message(1, (m) => {
    for (const i of n.inputs) m.string(1, i);
    for (const o of n.outputs) m.string(2, o);
    m.string(3, `${n.op}_${index}`);
    m.string(4, n.op);
    for (const [k, a] of Object.entries(n.attrs)) writeAttr(m, k, a);
    if (n.domain) m.string(7, n.domain);
  });
}

/** Appends tensor bytes to the data file at page-aligned offsets. */
class ExternalData {
  private offset = 0;
  constructor(
    private readonly fd: number,
    readonly fileName: string,
  ) {}

  append(data: Uint8Array): { offset: number; length: number } {
    const pad = (ALIGN - (this.offset % ALIGN)) % ALIGN;
    if (pad) writeSync(this.fd, new Uint8Array(pad));
    this.offset += pad;
    const at = this.offset;
    for (let done = 0; done < data.length;) done += writeSync(this.fd, data, done, Math.min(data.length - done, 1 << 30));
    this.offset += data.length;
    return { offset: at, length: data.length };
  }
}

function writeInitializer(w: ProtoWriter, init: Initializer, ext: ExternalData): void {
  const { value } = init;
  const data = bytesOf(typeof init.data === 'function' ? init.data() : init.data);
  w.message(5, (t) => {
    for (const d of value.shape) t.varint(1, d as number);
    t.varint(2, onnxTypeCode[value.dtype]);
    t.string(8, value.name);
    if (data.length < EXTERNAL_MIN_BYTES) {
      t.bytes(9, data);
      return;
    }
    const { offset, length } = ext.append(data);
    const entry = (k: string, v: string) => t.message(13, (e) => e.string(1, k).string(2, v));
    entry('location', ext.fileName);
    entry('offset', String(offset));
    entry('length', String(length));
    t.varint(14, 1); // data_location = EXTERNAL
  });
}

/**
 * Writes `graph` as `<dir>/model.onnx` plus `<dir>/model.onnx.data`. The folder is built under
 * a temporary name and renamed into place, so a kill never leaves a half-written model.
 */
/**
 * Renames the finished `tmp` folder to `dir`. Another process may have published the same graph
 * first (two editors starting at once): its folder is complete and may be open in a session, so
 * it is kept and ours dropped. Only a folder without a model (left by a crash) is replaced.
 */
function publish(tmp: string, dir: string): void {
  try {
    renameSync(tmp, dir);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
  }
  if (existsSync(join(dir, 'model.onnx'))) {
    rmSync(tmp, { recursive: true, force: true });
    return;
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

export function writeOnnxModel(graph: Graph, dir: string, opts: { producer?: string } = {}): string {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    mkdirp(tmp);
    const dataName = 'model.onnx.data';
    const fd = openSync(join(tmp, dataName), 'w');
    const model = new ProtoWriter();
    try {
      const ext = new ExternalData(fd, dataName);
      model.varint(1, IR_VERSION);
      model.string(2, opts.producer ?? 'codefudge');
      model.message(7, (g) => {
        graph.nodes.forEach((n, i) => writeNode(g, n, i));
        g.string(2, 'codefudge');
        // An initializer nothing reads (one that `Builder.stack` folded into another) is not written.
        const read = new Set([...graph.nodes.flatMap((n) => n.inputs), ...graph.outputs.map((o) => o.name)]);
        for (const init of graph.initializers.values()) if (read.has(init.value.name)) writeInitializer(g, init, ext);
        for (const v of graph.inputs) writeValueInfo(g, 11, v);
        for (const v of graph.outputs) writeValueInfo(g, 12, v);
      });
      model.message(8, (o) => o.string(1, '').varint(2, OPSET));
      model.message(8, (o) => o.string(1, 'com.microsoft').varint(2, 1));
    } finally {
      closeSync(fd);
    }
    const mfd = openSync(join(tmp, 'model.onnx'), 'w');
    try {
      writeSync(mfd, model.finish());
    } finally {
      closeSync(mfd);
    }
    publish(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    // A full or read-only cache: one line naming the graph's folder.
    throw cannotWrite(dir, e);
  }
  return join(dir, 'model.onnx');
}
