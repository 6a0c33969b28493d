import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { expectedTensors, openModelFolder, resolveModel, SafetensorsFile, writeSafetensors } from '../../engine/index.js';
import { UserError } from '../../common/index.js';
import { makeTinyModel } from '../helpers/tiny-model.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-folder-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function userError(fn: () => unknown, pattern: RegExp): Promise<void> {
  await assert.rejects(
    async () => fn(),
    (e: unknown) => {
      assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes('\n'));
      return true;
    },
  );
}

/** Rewrites model.safetensors with `edit` applied to its tensor list. */
function rewriteWeights(dir: string, edit: (names: string[]) => string[], reshape?: (name: string, shape: number[]) => number[]): void {
  const file = path.join(dir, 'model.safetensors');
  const st = SafetensorsFile.open(file);
  const tensors = edit(st.names()).map((name) => {
    const { dtype, shape } = st.info(name);
    const newShape = reshape?.(name, shape) ?? shape;
    const data = st.float32(name).slice(
      0,
      newShape.reduce((a, b) => a * b, 1),
    );
    return { name, dtype, shape: newShape, data };
  });
  st.close();
  writeSafetensors(file, tensors);
}

test('a missing folder, a file, a folder without config.json: one clear line each', async (t) => {
  const dir = tempDir(t);
  await userError(() => openModelFolder(path.join(dir, 'nope')), /^model folder ".*nope" does not exist$/);
  fs.writeFileSync(path.join(dir, 'file'), 'x');
  await userError(() => openModelFolder(path.join(dir, 'file')), /is not a folder/);
  await userError(() => openModelFolder(dir), /has no config\.json/);
});

test('opens a single-file F32 model and reads back the exact weights', (t) => {
  const dir = tempDir(t);
  const tiny = makeTinyModel(dir, { layers: 2, hidden: 16, heads: 4, kvHeads: 2, seed: 3 });
  const folder = openModelFolder(dir);
  t.after(() => folder.weights.close());
  assert.deepEqual(folder.config, tiny.config);
  assert.deepEqual(folder.weights.names(), [...tiny.tensors.keys()].sort());
  assert.deepEqual(folder.weights.shape('model.layers.1.self_attn.k_proj.weight'), [8, 16]);
  assert.equal(folder.weights.dtype('model.norm.weight'), 'F32');
  for (const [name, values] of tiny.tensors) assert.deepEqual(folder.weights.float32(name), values, name);
});

test('sharded BF16 model with an index; without the index, every *.safetensors is used', (t) => {
  const dir = tempDir(t);
  const tiny = makeTinyModel(dir, { dtype: 'BF16', shards: 3, qkvBias: true, tied: true, seed: 5 });
  assert.ok(fs.existsSync(path.join(dir, 'model.safetensors.index.json')));
  for (const useIndex of [true, false]) {
    if (!useIndex) fs.rmSync(path.join(dir, 'model.safetensors.index.json'));
    const folder = openModelFolder(dir);
    assert.equal(folder.weights.files.length, 3);
    assert.equal(folder.weights.dtype('model.embed_tokens.weight'), 'BF16');
    assert.ok(!folder.weights.has('lm_head.weight'));
    for (const [name, values] of tiny.tensors) assert.deepEqual(folder.weights.float32(name), values, name);
    folder.weights.close();
  }
});

test('F16 weights read back as the rounded values the helper returns', (t) => {
  const dir = tempDir(t);
  const tiny = makeTinyModel(dir, { dtype: 'F16', architecture: 'Qwen2ForCausalLM', seed: 9 });
  const folder = openModelFolder(dir);
  t.after(() => folder.weights.close());
  assert.ok(folder.weights.has('model.layers.0.self_attn.q_proj.bias'));
  for (const [name, values] of tiny.tensors) assert.deepEqual(folder.weights.float32(name), values, name);
});

test('a missing or mis-shaped tensor is named in the error', async (t) => {
  const dir = tempDir(t);
  makeTinyModel(dir, { hidden: 16, heads: 2 });
  rewriteWeights(dir, (names) => names.filter((n) => n !== 'model.layers.1.mlp.up_proj.weight'));
  await userError(
    () => openModelFolder(dir),
    /no tensor "model\.layers\.1\.mlp\.up_proj\.weight" \(expected shape \[32, 16\] from config\.json\)/,
  );

  makeTinyModel(dir, { hidden: 16, heads: 2 });
  rewriteWeights(
    dir,
    (names) => names,
    (name, shape) => (name === 'model.norm.weight' ? [8] : shape),
  );
  await userError(() => openModelFolder(dir), /tensor "model\.norm\.weight" has shape \[8\], but config\.json implies \[16\]/);

  makeTinyModel(dir, { hidden: 16, heads: 2, tied: false });
  rewriteWeights(dir, (names) => names.filter((n) => n !== 'lm_head.weight'));
  await userError(() => openModelFolder(dir), /no tensor "lm_head\.weight"/);
});

test('index problems: a missing shard, a tensor not where the index says, a path outside the folder', async (t) => {
  const dir = tempDir(t);
  makeTinyModel(dir, { shards: 2 });
  const indexPath = path.join(dir, 'model.safetensors.index.json');
  const index = JSON.parse(fs.readFileSync(indexPath, 'utf8'));
  const write = (weightMap: Record<string, string>) => fs.writeFileSync(indexPath, JSON.stringify({ ...index, weight_map: weightMap }));

  write({ ...index.weight_map, 'model.norm.weight': 'model-00009-of-00009.safetensors' });
  await userError(() => openModelFolder(dir), /names shard "model-00009-of-00009\.safetensors", which is not in/);
  const other = (file: string) =>
    file.startsWith('model-00001') ? 'model-00002-of-00002.safetensors' : 'model-00001-of-00002.safetensors';
  write({ ...index.weight_map, 'model.norm.weight': other(index.weight_map['model.norm.weight']) });
  await userError(
    () => openModelFolder(dir),
    /says tensor "model\.norm\.weight" is in model-0000.-of-00002\.safetensors, but it is not there/,
  );
  write({ ...index.weight_map, 'model.norm.weight': '../evil.safetensors' });
  await userError(() => openModelFolder(dir), /maps to "\.\.\/evil\.safetensors", not a \.safetensors file in the folder/);
  fs.writeFileSync(indexPath, '{"weight_map": 3}');
  await userError(() => openModelFolder(dir), /missing object "weight_map"/);
});

test('a tensor stored twice across shards is refused', async (t) => {
  const dir = tempDir(t);
  makeTinyModel(dir, {});
  writeSafetensors(path.join(dir, 'extra.safetensors'), [
    { name: 'model.norm.weight', dtype: 'F32', shape: [32], data: new Float32Array(32) },
  ]);
  fs.renameSync(path.join(dir, 'model.safetensors'), path.join(dir, 'a.safetensors'));
  await userError(() => openModelFolder(dir), /tensor "model\.norm\.weight" is in both a\.safetensors and extra\.safetensors/);
});

test('a corrupt weight file fails the folder with the safetensors error', async (t) => {
  const dir = tempDir(t);
  makeTinyModel(dir, {});
  const file = path.join(dir, 'model.safetensors');
  fs.truncateSync(file, fs.statSync(file).size - 100);
  await userError(() => openModelFolder(dir), /^model\.safetensors: tensor ".*" data_offsets .* run past the data section/);
});

test('fingerprint: stable across opens, changes when a weight file is touched', (t) => {
  const dir = tempDir(t);
  makeTinyModel(dir, { shards: 2 });
  const fingerprint = () => {
    const f = openModelFolder(dir);
    const fp = f.weights.fingerprint();
    f.weights.close();
    return fp;
  };
  const first = fingerprint();
  assert.match(first, /^[0-9a-f]{16}$/);
  assert.equal(fingerprint(), first);
  const shard = path.join(dir, 'model-00002-of-00002.safetensors');
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(shard, later, later);
  assert.notEqual(fingerprint(), first);
});

test('expectedTensors lists every weight the config implies, with [out, in] shapes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-folder-'));
  try {
    const { config } = makeTinyModel(dir, { layers: 1, hidden: 8, heads: 2, kvHeads: 1, ffn: 12, qkvBias: true, headDim: 6 });
    const byName = new Map(expectedTensors(config).map((e) => [e.name, e.shape]));
    assert.equal(byName.size, 1 + 13 + 1 + 1);
    assert.deepEqual(byName.get('model.layers.0.self_attn.q_proj.weight'), [12, 8]);
    assert.deepEqual(byName.get('model.layers.0.self_attn.k_proj.bias'), [6]);
    assert.deepEqual(byName.get('model.layers.0.self_attn.o_proj.weight'), [8, 12]);
    assert.deepEqual(byName.get('model.layers.0.self_attn.o_proj.bias'), [8]);
    assert.deepEqual(byName.get('model.layers.0.mlp.down_proj.weight'), [8, 12]);
    assert.deepEqual(byName.get('lm_head.weight'), [320, 8]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A local port with nothing listening, so connecting is refused at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('resolveModel: a local folder, a missing path, a cached hub snapshot, and no network', async (t) => {
  const dir = tempDir(t);
  const model = path.join(dir, 'model');
  fs.mkdirSync(model);
  assert.equal(await resolveModel(model), path.resolve(model));
  await userError(() => resolveModel(path.join(dir, 'nope')), /^model folder ".*nope" does not exist$/);
  await userError(() => resolveModel('not a hub id'), /model folder "not a hub id" does not exist/);

  const cacheDir = path.join(dir, 'hub');
  const hubUrl = `http://127.0.0.1:${await closedPort()}`;
  await userError(
    () => resolveModel('Qwen/Qwen2.5-Coder-0.5B', { cacheDir, hubUrl, timeoutMs: 2000 }),
    /^cannot download "Qwen\/Qwen2\.5-Coder-0\.5B" \(no network\?\): .*; pass --model DIR with a local model folder$/,
  );

  // A finished download (ref written, snapshot present) is used without the network.
  const repo = path.join(cacheDir, 'models--Qwen--Qwen2.5-Coder-0.5B');
  const commit = 'a'.repeat(40);
  fs.mkdirSync(path.join(repo, 'refs'), { recursive: true });
  fs.writeFileSync(path.join(repo, 'refs', 'main'), commit);
  fs.mkdirSync(path.join(repo, 'snapshots', commit), { recursive: true });
  fs.writeFileSync(path.join(repo, 'snapshots', commit, 'config.json'), '{}');
  assert.equal(await resolveModel('Qwen/Qwen2.5-Coder-0.5B', { cacheDir, hubUrl, timeoutMs: 2000 }), path.join(repo, 'snapshots', commit));
});
