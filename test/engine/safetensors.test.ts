import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SafetensorsFile, writeSafetensors, type TensorToWrite } from '../../engine/index.js';
import { UserError } from '../../common/index.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-safetensors-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A file with this exact header JSON and `dataBytes` bytes of data after it. */
function rawFile(file: string, header: unknown, dataBytes: number, headerLength?: bigint): void {
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(headerLength ?? BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([prefix, json, Buffer.alloc(dataBytes, 7)]));
}

function assertUserError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'the message is one line');
    return true;
  });
}

const sample: TensorToWrite[] = [
  { name: 'b.weight', dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, -7]) },
  { name: 'a.half', dtype: 'F16', shape: [3], data: Float32Array.from([0.5, -1.25, 65504]) },
  { name: 'c.bf', dtype: 'BF16', shape: [2], data: Float32Array.from([3.140625, -0.0078125]) },
  { name: 'ids', dtype: 'I64', shape: [2], data: BigInt64Array.from([5n, -9n]) },
  { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  { name: 'mask', dtype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) },
];

test('write then read round-trips every dtype, shape and metadata', (t) => {
  const file = path.join(tempDir(t), 'model.safetensors');
  writeSafetensors(file, sample, { format: 'pt', note: 'ünïcode' });
  const st = SafetensorsFile.open(file);
  t.after(() => st.close());
  assert.deepEqual(st.names().sort(), ['a.half', 'b.weight', 'c.bf', 'empty', 'ids', 'mask']);
  assert.deepEqual(st.info('b.weight'), { dtype: 'F32', shape: [2, 3] });
  assert.deepEqual([...st.float32('b.weight')], [...Float32Array.from([1, -2, 3.5, 0, 1e-8, -7])]);
  assert.deepEqual([...st.float32('a.half')], [0.5, -1.25, 65504]);
  assert.deepEqual([...st.float32('c.bf')], [3.140625, -0.0078125]);
  const ids = st.bytes('ids');
  assert.deepEqual([ids.readBigInt64LE(0), ids.readBigInt64LE(8)], [5n, -9n]);
  assert.equal(st.float32('empty').length, 0);
  assert.deepEqual([...st.bytes('mask')], [1, 0, 1]);
  assert.deepEqual(st.metadata, { format: 'pt', note: 'ünïcode' });
  assertUserError(() => st.float32('ids'), /"ids" has dtype I64, expected a float type/);
  assertUserError(() => st.bytes('nope'), /no tensor named "nope"/);
});

test('the writer is deterministic and lays the file out like the reference library', (t) => {
  const dir = tempDir(t);
  const a = path.join(dir, 'a.safetensors');
  const b = path.join(dir, 'b.safetensors');
  writeSafetensors(a, sample, { z: '1', a: '2' });
  writeSafetensors(b, [...sample].reverse(), { a: '2', z: '1' });
  const bytes = fs.readFileSync(a);
  assert.ok(bytes.equals(fs.readFileSync(b)), 'input order does not change the bytes');
  const headerLength = Number(bytes.readBigUInt64LE(0));
  assert.equal(headerLength % 8, 0, 'header padded to a multiple of 8');
  const headerText = bytes.subarray(8, 8 + headerLength).toString('utf8');
  assert.match(headerText, /^\{"__metadata__":\{"a":"2","z":"1"\},"ids":\{"dtype":"I64","shape":\[2\],"data_offsets":\[0,16\]\}/);
  assert.match(headerText, / *$/);
  // Larger dtypes first, then by name: every tensor starts aligned to its item size.
  const header = JSON.parse(headerText) as Record<string, { dtype: string; data_offsets: number[] }>;
  const order = Object.keys(header).filter((k) => k !== '__metadata__');
  assert.deepEqual(order, ['ids', 'b.weight', 'empty', 'c.bf', 'a.half', 'mask']);
  assert.equal(fs.readdirSync(dir).length, 2, 'no temp files left behind');
});

test('a tensor whose data does not match its shape is refused by the writer', (t) => {
  const file = path.join(tempDir(t), 'x.safetensors');
  assert.throws(
    () => writeSafetensors(file, [{ name: 'x', dtype: 'F32', shape: [2, 2], data: new Float32Array(3) }]),
    /12 bytes of data for shape \[2, 2\] of F32 \(16 bytes\)/,
  );
  assert.ok(!fs.existsSync(file));
});

test('reads tensors lazily from the file, one at a time', (t) => {
  const file = path.join(tempDir(t), 'big.safetensors');
  const n = 1 << 20;
  const ramp = Float32Array.from({ length: n }, (_, i) => i);
  writeSafetensors(file, [
    { name: 'ramp', dtype: 'F32', shape: [n], data: ramp },
    { name: 'one', dtype: 'F32', shape: [1], data: Float32Array.of(42) },
  ]);
  const st = SafetensorsFile.open(file);
  assert.deepEqual([...st.float32('one')], [42]);
  const back = st.float32('ramp');
  assert.equal(back[n - 1], n - 1);
  assert.equal(back.byteOffset % 4, 0);
  st.close();
  assert.throws(() => st.bytes('one'), /closed/);
});

test('corrupt files give one clear UserError line naming the file and the problem', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'model.safetensors');
  const ok = { dtype: 'F32', shape: [4, 4], data_offsets: [0, 64] };

  await t.test('missing file', () =>
    assertUserError(
      () => SafetensorsFile.open(path.join(dir, 'nope.safetensors')),
      /cannot open safetensors file ".*nope.safetensors": ENOENT/,
    ),
  );

  await t.test('a folder', () => assertUserError(() => SafetensorsFile.open(dir), /is not a regular file/));

  await t.test('shorter than the length prefix', () => {
    fs.writeFileSync(file, Buffer.from([1, 2, 3]));
    assertUserError(() => SafetensorsFile.open(file), /^model.safetensors: not a safetensors file \(3 bytes/);
  });

  await t.test('huge header length', () => {
    rawFile(file, { x: ok }, 64, 0xffff_ffff_ffff_ffffn);
    assertUserError(() => SafetensorsFile.open(file), /header length 18446744073709551615 exceeds the 100000000-byte limit/);
  });

  await t.test('header length past the end of the file', () => {
    rawFile(file, { x: ok }, 0, 5000n);
    assertUserError(() => SafetensorsFile.open(file), /header length 5000 runs past the end of the file/);
  });

  await t.test('header not JSON', () => {
    const junk = Buffer.from('{"x": [1, 2');
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(junk.length));
    fs.writeFileSync(file, Buffer.concat([prefix, junk]));
    assertUserError(() => SafetensorsFile.open(file), /header is not valid JSON/);
  });

  await t.test('header not an object', () => {
    rawFile(file, [1, 2], 0);
    assertUserError(() => SafetensorsFile.open(file), /header is not a JSON object/);
  });

  await t.test('truncated data section', () => {
    rawFile(file, { x: ok }, 40);
    assertUserError(() => SafetensorsFile.open(file), /tensor "x" data_offsets \[0, 64\] run past the data section \(40 bytes\)/);
  });

  await t.test('a truncated real file', () => {
    writeSafetensors(file, sample);
    const full = fs.readFileSync(file);
    fs.writeFileSync(file, full.subarray(0, full.length - 3));
    assertUserError(() => SafetensorsFile.open(file), /run past the data section/);
  });

  await t.test('offsets beyond the file', () => {
    rawFile(file, { x: { ...ok, data_offsets: [1000, 1064] } }, 64);
    assertUserError(() => SafetensorsFile.open(file), /\[1000, 1064\] run past the data section/);
  });

  await t.test('size does not match the shape', () => {
    rawFile(file, { x: { ...ok, data_offsets: [0, 99] } }, 99);
    assertUserError(
      () => SafetensorsFile.open(file),
      /^model.safetensors: tensor "x" data_offsets \[0, 99\] do not match shape \[4, 4\] of F32 \(64 bytes\)$/,
    );
  });

  await t.test('overlapping tensors', () => {
    rawFile(file, { x: ok, y: { dtype: 'F32', shape: [4], data_offsets: [48, 64] } }, 64);
    assertUserError(() => SafetensorsFile.open(file), /overlap tensor/);
  });

  await t.test('a gap between tensors', () => {
    rawFile(file, { x: { dtype: 'F32', shape: [4], data_offsets: [16, 32] } }, 32);
    assertUserError(() => SafetensorsFile.open(file), /leave a gap after byte 0/);
  });

  await t.test('bytes after the last tensor', () => {
    rawFile(file, { x: ok }, 80);
    assertUserError(() => SafetensorsFile.open(file), /data section is 80 bytes but the tensors cover 64/);
  });

  await t.test('begin after end', () => {
    rawFile(file, { x: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, 8);
    assertUserError(() => SafetensorsFile.open(file), /begin after they end/);
  });

  await t.test('unknown dtype', () => {
    rawFile(file, { x: { ...ok, dtype: 'F8_E4M3' } }, 64);
    assertUserError(() => SafetensorsFile.open(file), /tensor "x" has unsupported dtype "F8_E4M3"/);
  });

  await t.test('bad shape', () => {
    rawFile(file, { x: { ...ok, shape: [4, -4] } }, 64);
    assertUserError(() => SafetensorsFile.open(file), /shape \[4,-4\] is not a list of non-negative integers/);
  });

  await t.test('bad offsets', () => {
    rawFile(file, { x: { ...ok, data_offsets: [0] } }, 64);
    assertUserError(() => SafetensorsFile.open(file), /data_offsets \[0\] is not a pair/);
  });

  await t.test('metadata that is not a string map', () => {
    rawFile(file, { __metadata__: { n: 3 }, x: ok }, 64);
    assertUserError(() => SafetensorsFile.open(file), /__metadata__ value for "n" is not a string/);
  });
});

// Written by the Python safetensors library (0.8.0, safetensors.numpy.save_file) from the same tensors
// as below with metadata {"format": "np"}: our reader must read it, our writer must reproduce it byte for byte.
const PYTHON_WRITTEN =
  'gAEAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJmb3JtYXQiOiJucCJ9LCJpZHMiOnsiZHR5cGUiOiJJNjQiLCJzaGFwZSI6WzJdLCJkYXRhX29mZnNldHMiOlswLDE2XX0sInp6Ijp7ImR0eXBlIjoiRjY0Iiwic2hhcGUiOlsxXSwiZGF0YV9vZmZzZXRzIjpbMTYsMjRdfSwiYi53ZWlnaHQiOnsiZHR5cGUiOiJGMzIiLCJzaGFwZSI6WzIsM10sImRhdGFfb2Zmc2V0cyI6WzI0LDQ4XX0sImEuaGFsZiI6eyJkdHlwZSI6IkYxNiIsInNoYXBlIjpbM10sImRhdGFfb2Zmc2V0cyI6WzQ4LDU0XX0sImk4Ijp7ImR0eXBlIjoiSTgiLCJzaGFwZSI6WzJdLCJkYXRhX29mZnNldHMiOls1NCw1Nl19LCJtYXNrIjp7ImR0eXBlIjoiQk9PTCIsInNoYXBlIjpbM10sImRhdGFfb2Zmc2V0cyI6WzU2LDU5XX19ICAFAAAAAAAAAPf/////////AAAAAAAABEAAAIA/AAAAwAAAYEAAAAAAd8wrMgAA4MAAOAC9VTX/AgEAAQ==';

test('reads a file written by the Python library and writes the same bytes', (t) => {
  const dir = tempDir(t);
  const theirs = path.join(dir, 'theirs.safetensors');
  fs.writeFileSync(theirs, Buffer.from(PYTHON_WRITTEN, 'base64'));
  const st = SafetensorsFile.open(theirs);
  t.after(() => st.close());
  assert.deepEqual(st.metadata, { format: 'np' });
  assert.deepEqual([...st.float32('b.weight')], [...Float32Array.from([1, -2, 3.5, 0, 1e-8, -7])]);
  assert.deepEqual([...st.float32('a.half')], [0.5, -1.25, 0.333251953125]);
  assert.deepEqual([...st.float32('zz')], [2.5]);
  const tensors: TensorToWrite[] = [
    { name: 'b.weight', dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, -7]) },
    { name: 'a.half', dtype: 'F16', shape: [3], data: Float32Array.from([0.5, -1.25, 1 / 3]) },
    { name: 'ids', dtype: 'I64', shape: [2], data: BigInt64Array.from([5n, -9n]) },
    { name: 'zz', dtype: 'F64', shape: [1], data: Float64Array.from([2.5]) },
    { name: 'i8', dtype: 'I8', shape: [2], data: Int8Array.from([-1, 2]) },
    { name: 'mask', dtype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) },
  ];
  const ours = path.join(dir, 'ours.safetensors');
  writeSafetensors(ours, tensors, { format: 'np' });
  assert.ok(fs.readFileSync(ours).equals(fs.readFileSync(theirs)));
});
