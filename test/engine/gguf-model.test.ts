import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  configKey,
  detectFimTemplate,
  exportModelToGguf,
  f16ToF32,
  f32ToF16,
  GGUF_KEY,
  GgmlType,
  GgufFile,
  GgufMetadata,
  GgufWeights,
  buildInferenceGraph,
  initializerParams,
  loadCausalLM,
  loadTokenizer,
  openModelFolder,
  writeGguf,
  type GgufQuant,
} from '../../engine/index.js';
import { UserError } from '../../common/index.js';
import { makeTinyModel, type TinyModelOptions } from '../helpers/tiny-model.js';

const root = mkdtempSync(join(tmpdir(), 'cf-gguf-model-'));
before(() => {
  process.env.CODEFUDGE_CACHE = join(root, 'cache');
});
after(() => rmSync(root, { recursive: true, force: true }));

const IDS = [[5, 17, 42, 3, 99, 250, 7, 64, 1, 300, 12, 8]];

async function logits(model: string): Promise<Float32Array> {
  const lm = await loadCausalLM(model, { logits: 'all', threads: 1 });
  try {
    return Float32Array.from((await lm.forward(IDS, lm.emptyCache(1))).logits);
  } finally {
    await lm.release();
  }
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** A copy of a GGUF without some metadata keys (to test files other tools wrote). */
function withoutKeys(src: string, dst: string, drop: string[]): string {
  const g = GgufFile.open(src);
  try {
    const meta = new GgufMetadata();
    for (const [k, kv] of g.metadata) if (!drop.includes(k)) meta.set(k, kv.type, kv.value);
    writeGguf(
      dst,
      meta,
      g.tensors().map((t) => ({ name: t.name, dims: t.dims, type: t.type, bytes: () => g.bytes(t.name) })),
    );
  } finally {
    g.close();
  }
  return dst;
}

const models: [string, TinyModelOptions][] = [
  [
    'Llama, GQA 4/2, untied, attention and mlp bias',
    { architecture: 'LlamaForCausalLM', heads: 4, kvHeads: 2, qkvBias: true, mlpBias: true },
  ],
  ['Llama, MHA, tied embeddings', { architecture: 'LlamaForCausalLM', heads: 4, kvHeads: 4, tied: true }],
  ['Qwen2, GQA 4/1, q/k/v bias, tied', { architecture: 'Qwen2ForCausalLM', heads: 4, kvHeads: 1, tied: true }],
  [
    'Mistral (exported as llama), head_dim not hidden/heads',
    { architecture: 'MistralForCausalLM', heads: 8, kvHeads: 2, headDim: 6, hidden: 32 },
  ],
];

describe('a model exported to GGUF and loaded back', () => {
  models.forEach(([name, opts], i) => {
    describe(name, () => {
      const dir = join(root, `m${i}`);
      const tiny = makeTinyModel(dir, { layers: 2, seed: 40 + i, ...opts });
      let folderLogits: Float32Array;
      before(async () => {
        folderLogits = await logits(dir);
      });

      it('F32: the same config and logits as the safetensors folder', async () => {
        const file = join(root, `m${i}-f32.gguf`);
        exportModelToGguf(dir, file, 'f32');
        const f = openModelFolder(file);
        try {
          // Mistral converts to llama.cpp's `llama` architecture and comes back as Llama (the same network here).
          if (opts.architecture === 'MistralForCausalLM') assert.equal(f.config.architecture, 'LlamaForCausalLM');
          else assert.equal(configKey(f.config), configKey(tiny.config));
          assert.equal(f.config.tieWordEmbeddings, tiny.config.tieWordEmbeddings);
          for (const [hf, values] of tiny.tensors) assert.deepEqual(f.weights.float32(hf), values, hf);
        } finally {
          f.weights.close();
        }
        const d = maxDiff(await logits(file), folderLogits);
        assert.ok(d <= 1e-5, `max |gguf - folder| = ${d}`);
      });

      it('F16: weights are the f16-rounded values, logits within tolerance', async () => {
        const file = join(root, `m${i}-f16.gguf`);
        exportModelToGguf(dir, file, 'f16');
        const f = openModelFolder(file);
        try {
          for (const [hf, values] of tiny.tensors) {
            const want = f.weights.shape(hf).length === 2 ? f16ToF32(f32ToF16(values)) : values; // vectors stay F32
            assert.deepEqual(f.weights.float32(hf), want, hf);
          }
        } finally {
          f.weights.close();
        }
        const d = maxDiff(await logits(file), folderLogits);
        assert.ok(d < 2e-2, `max |gguf f16 - folder| = ${d}`);
      });

      for (const quant of ['q8_0', 'q4_0'] as GgufQuant[]) {
        it(`${quant}: quantized() gives exactly the float32() values, q/k permutation undone in both; quantizedLayout() its layout`, () => {
          const file = join(root, `m${i}-${quant}.gguf`);
          exportModelToGguf(dir, file, quant);
          const f = openModelFolder(file);
          try {
            const w = f.weights as GgufWeights;
            let checked = 0;
            for (const hf of w.names()) {
              const q = w.quantized(hf);
              // The header-only answer the graph builder asks (no tensor converted) agrees with quantized().
              assert.deepEqual(w.quantizedLayout(hf), q && { bits: q.bits, blockSize: q.blockSize }, `${hf} layout`);
              if (w.shape(hf).length === 1) {
                assert.equal(q, undefined);
                continue;
              }
              // Rows that are not whole blocks of 32 are written as F16, as llama.cpp's converter does.
              if (w.shape(hf)[1] % 32 !== 0) {
                assert.equal(w.ggmlType(hf), GgmlType.F16);
                assert.equal(q, undefined);
                continue;
              }
              assert.ok(q, `${hf} should be served quantized`);
              assert.equal(w.ggmlType(hf), quant === 'q8_0' ? GgmlType.Q8_0 : GgmlType.Q4_0);
              const float = w.float32(hf);
              const blocks = q.cols / q.blockSize;
              const zpPerRow = Math.ceil((blocks * q.bits) / 8);
              for (let n = 0; n < q.rows; n++) {
                for (let k = 0; k < q.cols; k++) {
                  const blk = Math.floor(k / q.blockSize);
                  let v: number;
                  let zp: number;
                  if (q.bits === 8) {
                    v = q.data[(n * blocks + blk) * q.blockSize + (k % q.blockSize)];
                    zp = q.zeroPoints[n * zpPerRow + blk];
                  } else {
                    const byte = q.data[(n * blocks + blk) * (q.blockSize / 2) + ((k % q.blockSize) >> 1)];
                    v = k % 2 === 0 ? byte & 15 : byte >> 4;
                    const zb = q.zeroPoints[n * zpPerRow + (blk >> 1)];
                    zp = blk % 2 === 0 ? zb & 15 : zb >> 4;
                  }
                  if ((v - zp) * q.scales[n * blocks + blk] !== float[n * q.cols + k]) assert.fail(`${hf}[${n}, ${k}]`);
                }
              }
              // And the values are close to the originals (so the permutation really was undone).
              const orig = tiny.tensors.get(hf)!;
              let worst = 0;
              let amax = 0;
              for (let j = 0; j < orig.length; j++) {
                worst = Math.max(worst, Math.abs(orig[j] - float[j]));
                amax = Math.max(amax, Math.abs(orig[j]));
              }
              assert.ok(worst <= amax / (quant === 'q8_0' ? 100 : 6), `${hf}: ${worst} vs max ${amax}`);
              checked++;
            }
            assert.ok(checked > 0);
          } finally {
            f.weights.close();
          }
        });

        it(`${quant}: building the int4 graph converts no stored tensor (their layouts come from the header)`, () => {
          const file = join(root, `m${i}-${quant}-build.gguf`);
          exportModelToGguf(dir, file, quant);
          const f = openModelFolder(file);
          try {
            const w = f.weights as GgufWeights;
            let converted = 0;
            const quantized = w.quantized.bind(w);
            w.quantized = (hf) => (converted++, quantized(hf));
            const numLayers = f.config.numLayers;
            buildInferenceGraph(f.config, (b) => initializerParams(b, w, { mode: 'int4', numLayers }), { logits: 'last' });
            assert.equal(converted, 0);
          } finally {
            f.weights.close();
          }
        });
      }
    });
  });
});

describe('re-exporting a GGUF', () => {
  it('copies Q4_0 blocks unchanged (no requantization loss) and round-trips metadata that matters', () => {
    const dir = join(root, 're');
    makeTinyModel(dir, { architecture: 'LlamaForCausalLM', layers: 1, heads: 4, kvHeads: 2, seed: 8 });
    const first = exportModelToGguf(dir, join(root, 're-1.gguf'), 'q4_0').file;
    const second = exportModelToGguf(first, join(root, 're-2.gguf'), 'q4_0').file;
    const a = GgufFile.open(first);
    const b = GgufFile.open(second);
    try {
      assert.deepEqual(
        b.tensors().map((t) => [t.name, t.type, t.dims]),
        a.tensors().map((t) => [t.name, t.type, t.dims]),
      );
      for (const t of a.tensors()) assert.ok(a.bytes(t.name).equals(b.bytes(t.name)), t.name);
      for (const key of ['llama.rope.freq_base', 'llama.attention.head_count_kv', GGUF_KEY.tokens, GGUF_KEY.merges, GGUF_KEY.eosId]) {
        assert.deepEqual(b.metadata.get(key), a.metadata.get(key), key);
      }
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('the tokenizer of a GGUF', () => {
  const dir = join(root, 'tok');
  makeTinyModel(dir, { layers: 1, seed: 3 });
  const file = join(root, 'tok.gguf');
  exportModelToGguf(dir, file, 'f32');
  const TEXTS = [
    'def f(x):\n    return x + 1\n',
    "it's 12345 o'clock, don't\r\n\tpanic",
    '  if  x ==  ( y ):  ',
    'naïve café — 東京 🙂',
    '<fim_prefix>def a():<fim_suffix>\n<fim_middle>',
    '',
  ];

  async function sameAsFolder(gguf: string, folder: string): Promise<void> {
    const want = await loadTokenizer(folder);
    const got = await loadTokenizer(gguf);
    for (const t of TEXTS) {
      assert.deepEqual(got.encode(t), want.encode(t), JSON.stringify(t));
      assert.equal(got.decode(want.encode(t)), t);
    }
    assert.equal(got.vocabSize, want.vocabSize);
    assert.deepEqual(got.eosTokenIds, want.eosTokenIds);
    assert.deepEqual([...got.specialTokens].sort(), [...want.specialTokens].sort());
    const fim = (t: typeof got) => {
      const f = detectFimTemplate(t);
      return f && { family: f.family, modes: f.modes, stop: f.stopTokens, addBos: f.addBos };
    };
    assert.deepEqual(fim(got), fim(want));
    assert.ok(fim(got));
  }

  it('from the stored tokenizer.json: encodes, decodes and finds FIM tokens like the folder', () => sameAsFolder(file, dir));

  it('from tokenizer.ggml.* alone (gpt-2 pre-tokenizer, as other tools write it)', async () => {
    const bare = withoutKeys(file, join(root, 'tok-bare.gguf'), [GGUF_KEY.hfJson]);
    const g = GgufFile.open(bare);
    assert.equal(g.get(GGUF_KEY.tokenizerPre), 'gpt-2');
    g.close();
    await sameAsFolder(bare, dir);
  });

  it('from tokenizer.ggml.* with the qwen2 pre-tokenizer (regex split, NFC)', async () => {
    const qdir = join(root, 'tok-qwen');
    makeTinyModel(qdir, { architecture: 'Qwen2ForCausalLM', layers: 1, seed: 4 });
    const tj = JSON.parse(readFileSync(join(qdir, 'tokenizer.json'), 'utf8'));
    tj.normalizer = { type: 'NFC' };
    tj.pre_tokenizer = {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: {
            Regex:
              "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
          },
          behavior: 'Isolated',
          invert: false,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    };
    writeFileSync(join(qdir, 'tokenizer.json'), JSON.stringify(tj));
    const qfile = exportModelToGguf(qdir, join(root, 'tok-qwen.gguf'), 'f32').file;
    const bare = withoutKeys(qfile, join(root, 'tok-qwen-bare.gguf'), [GGUF_KEY.hfJson]);
    const g = GgufFile.open(bare);
    assert.equal(g.get(GGUF_KEY.tokenizerPre), 'qwen2');
    g.close();
    await sameAsFolder(bare, qdir);
  });

  it('a real-sized vocabulary (151936 ids, some unused) round-trips through tokenizer.ggml.*', async () => {
    const bdir = join(root, 'tok-big');
    makeTinyModel(bdir, { architecture: 'Qwen2ForCausalLM', layers: 1, hidden: 32, vocabSize: 151936, tied: true, seed: 9 });
    const tj = JSON.parse(readFileSync(join(bdir, 'tokenizer.json'), 'utf8'));
    const vocab = tj.model.vocab as Record<string, number>;
    const used = Object.keys(vocab).length;
    for (let id = used; id < 151000; id++) vocab[`tok${id}`] = id; // unreachable by merges, but in the vocabulary
    writeFileSync(join(bdir, 'tokenizer.json'), JSON.stringify(tj));
    const big = exportModelToGguf(bdir, join(root, 'tok-big.gguf'), 'f32').file;
    const bare = withoutKeys(big, join(root, 'tok-big-bare.gguf'), [GGUF_KEY.hfJson]);
    const g = GgufFile.open(bare);
    const tokens = (g.get(GGUF_KEY.tokens) as { items: string[] }).items;
    g.close();
    assert.equal(tokens.length, 151936);
    assert.equal(tokens[151935], '[PAD151935]');
    await sameAsFolder(bare, bdir);
    const tok = await loadTokenizer(bare);
    assert.equal(tok.tokenToId('tok150999'), 150999);
    assert.equal(tok.vocabSize, 151000);
  });

  it('a GGUF without tokenizer metadata, or with an unknown pre-tokenizer, is a one-line UserError', async () => {
    const noTok = withoutKeys(file, join(root, 'no-tok.gguf'), [GGUF_KEY.hfJson, GGUF_KEY.tokens]);
    await assert.rejects(
      loadTokenizer(noTok),
      (e: Error) => e instanceof UserError && /missing metadata "tokenizer.ggml.tokens"/.test(e.message),
    );
    const g = GgufFile.open(file);
    const meta = new GgufMetadata();
    for (const [k, kv] of g.metadata) if (k !== GGUF_KEY.hfJson) meta.set(k, kv.type, kv.value);
    g.close();
    meta.string(GGUF_KEY.tokenizerPre, 'chatglm-bpe');
    const odd = join(root, 'odd-pre.gguf');
    writeGguf(odd, meta, []);
    await assert.rejects(loadTokenizer(odd), /pre-tokenizer "chatglm-bpe" is not supported/);
  });
});

describe('GGUF model errors', () => {
  const dir = join(root, 'err');
  makeTinyModel(dir, { layers: 1, seed: 5 });
  const file = exportModelToGguf(dir, join(root, 'err.gguf'), 'f32').file;

  function rewrite(name: string, edit: (meta: GgufMetadata) => void): string {
    const g = GgufFile.open(file);
    const meta = new GgufMetadata();
    for (const [k, kv] of g.metadata) meta.set(k, kv.type, kv.value);
    edit(meta);
    const out = join(root, name);
    writeGguf(
      out,
      meta,
      g.tensors().map((t) => ({ name: t.name, dims: t.dims, type: t.type, bytes: () => g.bytes(t.name) })),
    );
    g.close();
    return out;
  }

  it('an unsupported architecture, a missing hyperparameter, an adapter given as a model', () => {
    assert.throws(
      () => openModelFolder(rewrite('arch.gguf', (m) => m.string('general.architecture', 'gemma2'))),
      /architecture "gemma2" is not supported/,
    );
    assert.throws(
      () =>
        openModelFolder(
          rewrite('nohp.gguf', (m) => {
            m.entries.splice(
              m.entries.findIndex(([k]) => k === 'llama.block_count'),
              1,
            );
          }),
        ),
      /missing metadata "llama.block_count"/,
    );
    assert.throws(
      () => openModelFolder(rewrite('adapter.gguf', (m) => m.string('general.type', 'adapter'))),
      /is a LoRA adapter, not a model/,
    );
  });

  it('a Q4_K tensor reads as exact float32 (not as MatMulNBits blocks); a Q5_K tensor names its type in one line', () => {
    const wide = join(root, 'wide');
    makeTinyModel(wide, { layers: 1, hidden: 256, heads: 4, ffn: 256, seed: 6 });
    const src = exportModelToGguf(wide, join(root, 'wide.gguf'), 'f32').file;
    const g = GgufFile.open(src);
    const meta = new GgufMetadata();
    for (const [k, kv] of g.metadata) meta.set(k, kv.type, kv.value);
    const out = join(root, 'kquants.gguf');
    // All-zero super-blocks: d = dmin = 0, so every value is 0.
    writeGguf(
      out,
      meta,
      g
        .tensors()
        .map((t) =>
          t.name === 'blk.0.ffn_up.weight'
            ? { name: t.name, dims: t.dims, type: GgmlType.Q4_K, bytes: () => new Uint8Array(t.dims[1] * 144) }
            : t.name === 'blk.0.ffn_gate.weight'
              ? { name: t.name, dims: t.dims, type: GgmlType.Q5_K, bytes: () => new Uint8Array(t.dims[1] * 176) }
              : { name: t.name, dims: t.dims, type: t.type, bytes: () => g.bytes(t.name) },
        ),
    );
    g.close();
    const f = openModelFolder(out);
    try {
      const up = f.weights.float32('model.layers.0.mlp.up_proj.weight');
      assert.equal(up.length, 256 * 256);
      assert.ok(up.every((v) => v === 0));
      assert.equal(f.weights.quantized?.('model.layers.0.mlp.up_proj.weight'), undefined);
      assert.throws(
        () => f.weights.float32('model.layers.0.mlp.gate_proj.weight'),
        (e: Error) =>
          e instanceof UserError &&
          /blk\.0\.ffn_gate\.weight.* is stored as Q5_K, which codefudge cannot load exactly/.test(e.message) &&
          !e.message.includes('\n'),
      );
    } finally {
      f.weights.close();
    }
  });
});
