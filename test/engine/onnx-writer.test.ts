import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Builder, OPSET, openSession, ort, writeOnnxModel } from '../../engine/index.js';

// The onnx-proto package's generated decoder reads our hand-written protobuf independently.
const { onnx } = createRequire(import.meta.url)('onnx-proto') as typeof import('onnx-proto');

const root = mkdtempSync(join(tmpdir(), 'cf-onnx-writer-'));
after(() => rmSync(root, { recursive: true, force: true }));

function sampleGraph(): Builder {
  const b = new Builder('float32');
  const x = b.input('x', 'float32', ['batch', 3]);
  const big = b.initializer(
    'w',
    'float32',
    [3, 4096],
    Float32Array.from({ length: 3 * 4096 }, (_, i) => (i % 11) - 5),
  );
  const bias = b.initializer('bias', 'float32', [4096], new Float32Array(4096).fill(0.5));
  const y = b.add(b.gemm(x, big), bias);
  b.output(b.softmax(y, -1), 'probs');
  b.output(b.reduce('ReduceMax', y, [1], false), 'top');
  return b;
}

describe('ONNX writer', () => {
  it('removeDeadNodes drops the nodes that reach no output and keeps the rest in order', () => {
    const b = new Builder('float32');
    const x = b.input('x', 'float32', [2]);
    const y = b.exp(x);
    const dead = b.mul(b.sqrt(y), y);
    b.neg(dead);
    b.output(b.add(y, x), 'out');
    assert.equal(b.nodes.length, 6);
    b.removeDeadNodes();
    assert.deepEqual(
      b.nodes.map((n) => n.op),
      ['Exp', 'Add', 'Identity'],
    );
  });

  it('writes a model that onnx-proto decodes to the graph we built', () => {
    const path = writeOnnxModel(sampleGraph(), join(root, 'm'));
    const model = onnx.ModelProto.decode(readFileSync(path));
    assert.equal(Number(model.irVersion), 8);
    assert.deepEqual(
      model.opsetImport.map((o) => [o.domain, Number(o.version)]),
      [
        ['', OPSET],
        ['com.microsoft', 1],
      ],
    );
    const g = model.graph as InstanceType<typeof onnx.GraphProto>;
    // Outputs named apart from their value get an Identity.
    assert.deepEqual(
      g.node.map((n) => n.opType),
      ['Gemm', 'Add', 'Softmax', 'Identity', 'ReduceMax', 'Identity'],
    );
    assert.deepEqual(
      g.input.map((i) => i.name),
      ['x'],
    );
    assert.deepEqual(
      g.output.map((o) => o.name),
      ['probs', 'top'],
    );
    const x = g.input[0].type!.tensorType!;
    assert.equal(x.elemType, 1);
    assert.deepEqual(
      x.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue)),
      ['batch', 3],
    );
    const softmax = g.node[2];
    assert.equal(softmax.attribute![0].name, 'axis');
    assert.equal(Number(softmax.attribute![0].i), 1);
    // Large tensors live in the external data file, page-aligned; small ones inline.
    const byName = new Map(g.initializer!.map((t) => [t.name, t]));
    assert.equal(byName.get('w')!.rawData!.length, 0);
    assert.deepEqual(byName.get('w')!.dims!.map(Number), [3, 4096]);
    assert.equal(byName.get('bias')!.rawData!.length, 0);
    assert.ok(statSync(join(root, 'm', 'model.onnx.data')).size >= 4 * (3 * 4096 + 4096));
    const axes = [...byName.values()].find((t) => t.dataType === 7)!;
    assert.ok(axes.rawData!.length > 0, 'small int64 constants are stored inline');
  });

  it('keeps a graph another process published first (it may be open), and replaces one left without a model', async () => {
    const dir = join(root, 'shared');
    const first = writeOnnxModel(sampleGraph(), dir);
    const session = await openSession(first, { threads: 1 });
    const inode = statSync(join(dir, 'model.onnx.data')).ino;
    assert.equal(writeOnnxModel(sampleGraph(), dir), first);
    assert.equal(statSync(join(dir, 'model.onnx.data')).ino, inode, 'the published folder was replaced');
    assert.deepEqual(
      readdirSync(root).filter((n) => n.startsWith('shared.tmp')),
      [],
      'the second writer left its folder behind',
    );
    await session.release();
    rmSync(join(dir, 'model.onnx'));
    writeOnnxModel(sampleGraph(), dir);
    assert.ok(statSync(join(dir, 'model.onnx')).size > 0);
  });

  it('stack writes stacked initializers as one, concatenated at write time, and drops the parts nothing reads', async () => {
    const b = new Builder('float32');
    const x = b.input('x', 'float32', [1, 2]);
    const made: string[] = [];
    const lazy = (name: string, rows: number, first: number) =>
      b.initializer(name, 'float32', [rows, 2], () => {
        made.push(name);
        return Float32Array.from({ length: rows * 2 }, (_, i) => first + i);
      });
    const parts = [lazy('q', 2, 0), lazy('k', 1, 100), lazy('v', 3, 200)];
    const stacked = b.stack(parts);
    assert.deepEqual(stacked.shape, [6, 2]);
    // A value that is not an initializer keeps a Concat node.
    assert.equal(b.stack([parts[0], b.neg(parts[1])]).shape[0], 3);
    b.output(b.gemm(x, stacked, { transB: true }), 'y');
    b.removeDeadNodes();
    const path = writeOnnxModel(b, join(root, 'stacked'));
    assert.deepEqual(made, ['q', 'k', 'v'], 'each part read once');
    const g = onnx.ModelProto.decode(readFileSync(path)).graph as InstanceType<typeof onnx.GraphProto>;
    assert.deepEqual(
      g.node.map((n) => n.opType),
      ['Gemm', 'Identity'],
    );
    assert.deepEqual(
      g.initializer.map((t) => t.dims!.map(Number)),
      [[6, 2]],
      'only the stacked initializer is written',
    );
    const s = await openSession(path, { threads: 1 });
    const y = (await s.run({ x: new ort.Tensor('float32', Float32Array.of(1, 0.5), [1, 2]) })).y.data as Float32Array;
    await s.release();
    // Row r of [q; k; v] is (a, a + 1) for a = 0, 2, 100, 200, 202, 204: y_r = a + (a + 1) / 2.
    assert.deepEqual(
      Array.from(y),
      [0, 2, 100, 200, 202, 204].map((a) => a + (a + 1) / 2),
    );
  });

  it('runs in onnxruntime with the values numpy-style arithmetic gives', async () => {
    const path = writeOnnxModel(sampleGraph(), join(root, 'm2'));
    const s = await openSession(path, { threads: 1 });
    const out = await s.run({ x: new ort.Tensor('float32', Float32Array.of(1, 0, 0, 0, 0, 2), [2, 3]) });
    const top = out.top.data as Float32Array;
    // Row 0 picks w[0, :] + 0.5, max of ((i % 11) - 5) is 5; row 1 is 2 * w[2, :] + 0.5.
    assert.deepEqual(Array.from(top), [5.5, 10.5]);
    const probs = out.probs.data as Float32Array;
    let sum = 0;
    for (let i = 0; i < 4096; i++) sum += probs[i];
    assert.ok(Math.abs(sum - 1) < 1e-4);
    await s.release();
  });
});
