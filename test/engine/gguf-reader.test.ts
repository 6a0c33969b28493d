import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  dequantize,
  GgmlType,
  GgufFile,
  GgufMetadata,
  GgufValueType,
  toMatMulNBits,
  writeGguf,
  type GgufArray,
} from '../../engine/index.js';
import { UserError } from '../../common/index.js';

const root = mkdtempSync(join(tmpdir(), 'cf-gguf-reader-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A GGUF assembled byte by byte here, independent of our writer. */
class HandBuilt {
  private parts: Buffer[] = [];
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.parts.push(b);
    return this;
  }
  u64(v: number | bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.parts.push(b);
    return this;
  }
  str(s: string): this {
    const b = Buffer.from(s);
    this.u64(b.length);
    this.parts.push(b);
    return this;
  }
  raw(b: Uint8Array): this {
    this.parts.push(Buffer.from(b));
    return this;
  }
  padTo(alignment: number): this {
    const len = this.bytes().length;
    return this.raw(Buffer.alloc(Math.ceil(len / alignment) * alignment - len));
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
  write(name: string): string {
    const f = join(root, name);
    writeFileSync(f, this.bytes());
    return f;
  }
}

/** A Q4_0 block: d = 0.5 (f16 0x3800), qs[j] = j | (15 - j) << 4. */
function q4Block(d = 0x3800): Buffer {
  const b = Buffer.alloc(18);
  b.writeUInt16LE(d, 0);
  for (let j = 0; j < 16; j++) b[2 + j] = j | ((15 - j) << 4);
  return b;
}
/** A Q8_0 block: d = 0.25 (f16 0x3400), q[j] = j - 16 (so -16..15), plus q[31] = -128. */
function q8Block(): Buffer {
  const b = Buffer.alloc(34);
  b.writeUInt16LE(0x3400, 0);
  for (let j = 0; j < 32; j++) b.writeInt8(j - 16, 2 + j);
  b.writeInt8(-128, 2 + 31);
  return b;
}

/** Two tensors: "q4" [2 rows, 64 cols] of Q4_0 and "q8" [1 row, 32 cols] of Q8_0, with a few metadata types. */
function handBuiltFile(name: string): string {
  const h = new HandBuilt().u32(0x46554747).u32(3).u64(2).u64(3);
  h.str('general.architecture').u32(GgufValueType.STRING).str('llama');
  h.str('general.alignment').u32(GgufValueType.UINT32).u32(32);
  h.str('test.ints').u32(GgufValueType.ARRAY).u32(GgufValueType.INT32).u64(3).u32(1).u32(0xffffffff).u32(7);
  h.str('q4').u32(2).u64(64).u64(2).u32(GgmlType.Q4_0).u64(0);
  h.str('q8').u32(2).u64(32).u64(1).u32(GgmlType.Q8_0).u64(96); // 4 Q4_0 blocks = 72 bytes, padded to 96
  h.padTo(32);
  h.raw(q4Block()).raw(q4Block(0xb800)).raw(q4Block(0x3c00)).raw(q4Block(0));
  h.raw(Buffer.alloc(96 - 72));
  h.raw(q8Block());
  return h.write(name);
}

describe('GGUF reader on a hand-built file', () => {
  const file = handBuiltFile('hand.gguf');
  const g = GgufFile.open(file);
  after(() => g.close());

  it('reads the header, metadata and tensor infos', () => {
    assert.equal(g.version, 3);
    assert.equal(g.get('general.architecture'), 'llama');
    assert.deepEqual((g.get('test.ints') as GgufArray).items, [1, -1, 7]);
    assert.deepEqual(g.tensor('q4').dims, [64, 2]);
    assert.equal(g.tensor('q4').byteSize, 72);
    assert.equal(g.tensor('q8').offset - g.tensor('q4').offset, 96);
  });

  it('dequantizes Q4_0 value by value: x[j] = (low nibble - 8)·d, x[j+16] = (high nibble - 8)·d', () => {
    const v = dequantize(GgmlType.Q4_0, g.bytes('q4'), 128, 'q4');
    const ds = [0.5, -0.5, 1, 0];
    for (let b = 0; b < 4; b++) {
      for (let j = 0; j < 16; j++) {
        assert.equal(v[b * 32 + j], (j - 8) * ds[b], `block ${b} element ${j}`);
        assert.equal(v[b * 32 + 16 + j], (15 - j - 8) * ds[b], `block ${b} element ${16 + j}`);
      }
    }
  });

  it('dequantizes Q8_0 value by value: x[j] = q[j]·d', () => {
    const v = dequantize(GgmlType.Q8_0, g.bytes('q8'), 32, 'q8');
    for (let j = 0; j < 31; j++) assert.equal(v[j], (j - 16) * 0.25);
    assert.equal(v[31], -128 * 0.25);
  });

  it('repacks Q4_0 into MatMulNBits order losslessly (byte i: low x[2i], high x[2i+1]; zero point 8)', () => {
    const q = toMatMulNBits(GgmlType.Q4_0, g.bytes('q4'), 2, 64)!;
    assert.equal(q.bits, 4);
    assert.equal(q.blockSize, 32);
    assert.deepEqual([...q.scales], [0.5, -0.5, 1, 0]);
    assert.equal(q.data.length, 2 * 2 * 16);
    assert.equal(q.zeroPoints.length, 2); // 2 rows × ceil(2 blocks × 4 bits / 8)
    assert.ok(q.zeroPoints.every((z) => z === 0x88));
    // Block 0: x[0] = nibble 0, x[1] = nibble 1 → byte 0 = 0x10; x[16] = 15, x[17] = 14 → byte 8 = 0xef.
    assert.equal(q.data[0], 0x10);
    assert.equal(q.data[8], 0xef);
    const float = dequantize(GgmlType.Q4_0, g.bytes('q4'), 128, 'q4');
    for (let n = 0; n < 2; n++) {
      for (let k = 0; k < 64; k++) {
        const blk = n * 2 + (k >> 5);
        const byte = q.data[blk * 16 + ((k % 32) >> 1)];
        const nib = k % 2 === 0 ? byte & 15 : byte >> 4;
        assert.equal((nib - 8) * q.scales[blk], float[n * 64 + k], `row ${n} col ${k}`);
      }
    }
  });

  it('repacks Q8_0 as q + 128 with zero point 128', () => {
    const q = toMatMulNBits(GgmlType.Q8_0, g.bytes('q8'), 1, 32)!;
    assert.equal(q.bits, 8);
    assert.deepEqual([...q.scales], [0.25]);
    assert.deepEqual([...q.zeroPoints], [128]);
    const float = dequantize(GgmlType.Q8_0, g.bytes('q8'), 32, 'q8');
    for (let k = 0; k < 32; k++) assert.equal((q.data[k] - 128) * q.scales[0], float[k]);
  });
});

describe('GGUF writer → reader', () => {
  it('round-trips metadata of every value type, nested arrays and tensors (node-llama-cpp reads it too)', async () => {
    const meta = new GgufMetadata()
      .string('general.architecture', 'llama')
      .set('t.u8', GgufValueType.UINT8, 250)
      .set('t.i8', GgufValueType.INT8, -5)
      .set('t.u16', GgufValueType.UINT16, 65000)
      .set('t.i16', GgufValueType.INT16, -300)
      .u32('t.u32', 4e9)
      .set('t.i32', GgufValueType.INT32, -2e9)
      .f32('t.f32', 0.5)
      .bool('t.bool', true)
      .set('t.u64', GgufValueType.UINT64, 2 ** 40)
      .set('t.i64', GgufValueType.INT64, -(2 ** 40))
      .set('t.f64', GgufValueType.FLOAT64, Math.PI)
      .set('t.big', GgufValueType.UINT64, 2n ** 63n)
      .array('t.strs', GgufValueType.STRING, ['a', 'β', ''])
      .array('t.nested', GgufValueType.ARRAY, [
        { itemType: GgufValueType.INT32, items: [1, 2] },
        { itemType: GgufValueType.INT32, items: [] },
      ])
      .u32('general.alignment', 64);
    const data = Float32Array.from({ length: 12 }, (_, i) => i - 3.5);
    const file = join(root, 'written.gguf');
    writeGguf(file, meta, [
      { name: 'a', dims: [4, 3], type: GgmlType.F32, bytes: () => new Uint8Array(data.buffer) },
      { name: 'b', dims: [5], type: GgmlType.F32, bytes: () => new Uint8Array(new Float32Array(5).fill(2).buffer) },
    ]);
    const g = GgufFile.open(file);
    try {
      for (const [key, kv] of meta.entries) assert.deepEqual(g.metadata.get(key), kv, key);
      assert.equal(g.alignment, 64);
      assert.equal(g.tensor('a').offset % 64, 0);
      assert.equal(g.tensor('b').offset % 64, 0);
      assert.deepEqual([...dequantize(GgmlType.F32, g.bytes('a'), 12, 'a')], [...data]);
      assert.deepEqual([...dequantize(GgmlType.F32, g.bytes('b'), 5, 'b')], [2, 2, 2, 2, 2]);
    } finally {
      g.close();
    }
    let nlc: {
      readGgufFileInfo(
        p: string,
        o: object,
      ): Promise<{ version: number; tensorInfo?: { name: string; fileOffset: number | bigint }[]; metadata: Record<string, unknown> }>;
    };
    try {
      nlc = await import('node-llama-cpp' as string);
    } catch {
      return; // node-llama-cpp is optional; the independent check runs where it is installed
    }
    const info = await nlc.readGgufFileInfo(file, { readTensorInfo: true, logWarnings: false });
    assert.equal(info.version, 3);
    const t = info.metadata.t as Record<string, unknown>;
    assert.equal((info.metadata.general as Record<string, unknown>).architecture, 'llama');
    assert.equal(t.u32, 4e9);
    assert.equal(t.i16, -300);
    assert.equal(t.f64, Math.PI);
    assert.equal(t.bool, true);
    assert.deepEqual(t.strs, ['a', 'β', '']);
    const g2 = GgufFile.open(file);
    try {
      for (const t of info.tensorInfo!) assert.equal(Number(t.fileOffset), g2.tensor(t.name).offset);
    } finally {
      g2.close();
    }
  });
});

describe('GGUF reader rejects bad files with one clear line', () => {
  const good = handBuiltFile('good.gguf');
  const goodBytes = readFileSync(good);

  function rejects(name: string, bytes: Buffer, pattern: RegExp): void {
    const f = join(root, name);
    writeFileSync(f, bytes);
    assert.throws(
      () => GgufFile.open(f),
      (e: Error) => {
        assert.ok(e instanceof UserError, `${e}`);
        assert.ok(!e.message.includes('\n'), e.message);
        assert.match(e.message, pattern);
        return true;
      },
    );
  }

  it('truncated anywhere in the header or data', () => {
    for (const len of [0, 10, 30, 60, 150, goodBytes.length - 1])
      rejects(`trunc-${len}.gguf`, goodBytes.subarray(0, len), /truncated|past the end|shorter|more than the file can hold/);
  });

  it('bad magic and unsupported version', () => {
    const bad = Buffer.from(goodBytes);
    bad.write('GGML', 0);
    rejects('magic.gguf', bad, /not a GGUF file/);
    const v1 = Buffer.from(goodBytes);
    v1.writeUInt32LE(1, 4);
    rejects('v1.gguf', v1, /version 1 is not supported/);
  });

  it('lying counts: tensors, metadata entries, array items, string lengths', () => {
    const manyTensors = Buffer.from(goodBytes);
    manyTensors.writeBigUInt64LE(1000000n, 8);
    rejects('tensors.gguf', manyTensors, /more than the file can hold/);
    const hugeKv = Buffer.from(goodBytes);
    hugeKv.writeBigUInt64LE(2n ** 62n, 16);
    rejects('kvs.gguf', hugeKv, /beyond the file|more than the file/);
    const longArray = new HandBuilt()
      .u32(0x46554747)
      .u32(3)
      .u64(0)
      .u64(1)
      .str('x')
      .u32(GgufValueType.ARRAY)
      .u32(GgufValueType.UINT64)
      .u64(1e12)
      .bytes();
    rejects('array.gguf', longArray, /claims 1000000000000 items/);
    const longString = new HandBuilt().u32(0x46554747).u32(3).u64(0).u64(1).u64(1e9).raw(Buffer.alloc(100)).bytes();
    rejects('string.gguf', longString, /truncated/);
  });

  it('a tensor past the end of the file, overlapping tensors, bad alignment', () => {
    const tensorFile = (dims: number[][], offsets: number[], align = 32, dataBytes = 256) => {
      const h = new HandBuilt()
        .u32(0x46554747)
        .u32(3)
        .u64(dims.length)
        .u64(1)
        .str('general.alignment')
        .u32(GgufValueType.UINT32)
        .u32(align);
      dims.forEach((d, i) => {
        h.str(`t${i}`).u32(d.length);
        d.forEach((x) => h.u64(x));
        h.u32(GgmlType.F32).u64(offsets[i]);
      });
      return h.padTo(32).raw(Buffer.alloc(dataBytes)).bytes();
    };
    rejects('past-eof.gguf', tensorFile([[128]], [0]), /runs past the end of the file/);
    rejects('overlap.gguf', tensorFile([[16], [16]], [0, 32]), /overlap/);
    rejects('misaligned.gguf', tensorFile([[4]], [8]), /not a multiple of the alignment 32/);
    rejects('alignment.gguf', tensorFile([[4]], [0], 24), /general\.alignment must be a power-of-two/);
    rejects('zero-dim.gguf', tensorFile([[0]], [0]), /zero dim/);
  });

  it('a row that is not whole blocks, an unknown type, a duplicate name', () => {
    const h = new HandBuilt()
      .u32(0x46554747)
      .u32(3)
      .u64(1)
      .u64(0)
      .str('q')
      .u32(1)
      .u64(40)
      .u32(GgmlType.Q4_0)
      .u64(0)
      .padTo(32)
      .raw(Buffer.alloc(64));
    rejects('partial-block.gguf', h.bytes(), /not a whole number of Q4_0 blocks/);
    const u = new HandBuilt().u32(0x46554747).u32(3).u64(1).u64(0).str('q').u32(1).u64(32).u32(99).u64(0).padTo(32).raw(Buffer.alloc(64));
    rejects('unknown-type.gguf', u.bytes(), /unknown ggml type 99/);
    const d = new HandBuilt()
      .u32(0x46554747)
      .u32(3)
      .u64(2)
      .u64(0)
      .str('q')
      .u32(1)
      .u64(4)
      .u32(GgmlType.F32)
      .u64(0)
      .str('q')
      .u32(1)
      .u64(4)
      .u32(GgmlType.F32)
      .u64(32)
      .padTo(32)
      .raw(Buffer.alloc(64));
    rejects('duplicate.gguf', d.bytes(), /appears twice/);
  });

  it('an unsupported block type is named when read, not when opened', () => {
    const h = new HandBuilt()
      .u32(0x46554747)
      .u32(3)
      .u64(1)
      .u64(0)
      .str('k')
      .u32(1)
      .u64(256)
      .u32(GgmlType.Q5_K)
      .u64(0)
      .padTo(32)
      .raw(Buffer.alloc(176));
    const f = join(root, 'q4k.gguf');
    writeFileSync(f, h.bytes());
    const g = GgufFile.open(f);
    try {
      assert.throws(
        () => dequantize(GgmlType.Q5_K, g.bytes('k'), 256, 'tensor "k"'),
        /stored as Q5_K, which codefudge cannot load exactly/,
      );
    } finally {
      g.close();
    }
  });
});
