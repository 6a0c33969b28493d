import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configKey, parseModelConfig, readModelConfig } from '../../engine/index.js';
import { UserError } from '../../common/index.js';

// The config.json of Qwen2.5-Coder-0.5B (fields as published).
const qwenCoder = {
  architectures: ['Qwen2ForCausalLM'],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151643,
  hidden_act: 'silu',
  hidden_size: 896,
  initializer_range: 0.02,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  max_window_layers: 24,
  model_type: 'qwen2',
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

// The shape of a Llama 3.2 1B config.json.
const llama32 = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009],
  head_dim: 64,
  hidden_size: 2048,
  intermediate_size: 8192,
  max_position_embeddings: 131072,
  mlp_bias: false,
  model_type: 'llama',
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  vocab_size: 128256,
};

function userError(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('Qwen2.5-Coder config normalizes to the Qwen2 architecture with q/k/v bias', () => {
  const c = parseModelConfig(qwenCoder);
  assert.deepEqual(
    { ...c, raw: undefined },
    {
      architecture: 'Qwen2ForCausalLM',
      vocabSize: 151936,
      hiddenSize: 896,
      intermediateSize: 4864,
      numLayers: 24,
      numHeads: 14,
      numKvHeads: 2,
      headDim: 64,
      rmsNormEps: 1e-6,
      ropeTheta: 1000000,
      ropeScaling: null,
      maxPositionEmbeddings: 32768,
      slidingWindow: null,
      tieWordEmbeddings: true,
      qkvBias: true,
      oBias: false,
      mlpBias: false,
      bosTokenId: 151643,
      eosTokenIds: [151643],
      torchDtype: 'bfloat16',
      raw: undefined,
    },
  );
  assert.equal(c.raw, qwenCoder);
});

test('Llama 3.2 config: explicit head_dim, llama3 rope scaling, several eos ids', () => {
  const c = parseModelConfig(llama32);
  assert.equal(c.headDim, 64);
  assert.deepEqual(c.ropeScaling, { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
  assert.deepEqual(c.eosTokenIds, [128001, 128008, 128009]);
  assert.equal(c.qkvBias, false);
  assert.equal(c.oBias, false);
});

test('Llama attention_bias gives q/k/v and o bias; mlp_bias the MLP bias; Mistral has none and a window', () => {
  const llama = parseModelConfig({ ...llama32, attention_bias: true, mlp_bias: true });
  assert.deepEqual([llama.qkvBias, llama.oBias, llama.mlpBias], [true, true, true]);
  const mistral = parseModelConfig({
    ...llama32,
    architectures: ['MistralForCausalLM'],
    attention_bias: true,
    sliding_window: 4096,
    rope_scaling: null,
  });
  assert.deepEqual([mistral.qkvBias, mistral.oBias, mistral.mlpBias, mistral.slidingWindow], [false, false, false, 4096]);
});

test('defaults: kv heads = heads, head_dim = hidden / heads, rope_theta 10000, no eos', () => {
  const c = parseModelConfig({
    architectures: ['LlamaForCausalLM'],
    vocab_size: 100,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
  });
  assert.deepEqual(
    [c.numKvHeads, c.headDim, c.ropeTheta, c.rmsNormEps, c.eosTokenIds, c.bosTokenId, c.tieWordEmbeddings],
    [4, 16, 10000, 1e-6, [], null, false],
  );
});

test('rope scaling: legacy "type", yarn defaults, mscale, and rope_parameters of newer configs', () => {
  const withScaling = (rope_scaling: unknown, extra: object = {}) => parseModelConfig({ ...qwenCoder, rope_scaling, ...extra }).ropeScaling;
  assert.deepEqual(withScaling({ type: 'linear', factor: 2 }), { type: 'linear', factor: 2 });
  assert.deepEqual(withScaling({ type: 'dynamic', factor: 2 }), { type: 'dynamic', factor: 2, originalMaxPositionEmbeddings: 32768 });
  assert.deepEqual(withScaling({ rope_type: 'default' }), null);
  // Qwen2.5's documented long-context setting.
  assert.deepEqual(withScaling({ factor: 4.0, original_max_position_embeddings: 32768, type: 'yarn' }), {
    type: 'yarn',
    factor: 4,
    originalMaxPositionEmbeddings: 32768,
    attentionFactor: 0.1 * Math.log(4) + 1,
    betaFast: 32,
    betaSlow: 1,
    truncate: true,
  });
  const deepseekStyle = withScaling({ type: 'yarn', factor: 40, mscale: 1, mscale_all_dim: 0.5, beta_fast: 16, truncate: false }) as {
    attentionFactor: number;
    betaFast: number;
    truncate: boolean;
  };
  assert.ok(Math.abs(deepseekStyle.attentionFactor - (0.1 * Math.log(40) + 1) / (0.05 * Math.log(40) + 1)) < 1e-15);
  assert.deepEqual([deepseekStyle.betaFast, deepseekStyle.truncate], [16, false]);
  const v5 = parseModelConfig({ ...qwenCoder, rope_theta: undefined, rope_parameters: { rope_type: 'default', rope_theta: 5e5 } });
  assert.deepEqual([v5.ropeTheta, v5.ropeScaling], [5e5, null]);
  const v5linear = parseModelConfig({
    ...qwenCoder,
    rope_theta: undefined,
    rope_parameters: { rope_type: 'linear', rope_theta: 7, factor: 3 },
  });
  assert.deepEqual([v5linear.ropeTheta, v5linear.ropeScaling], [7, { type: 'linear', factor: 3 }]);
});

test('unsupported architectures and bad fields are one-line UserErrors naming the problem', () => {
  userError(
    () => parseModelConfig({ ...qwenCoder, architectures: ['GPT2LMHeadModel'] }),
    'config.json: architecture "GPT2LMHeadModel" is not supported (supported: LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM)',
  );
  userError(
    () => parseModelConfig({ ...qwenCoder, architectures: undefined, model_type: 'gpt2' }),
    /architecture "model_type gpt2" is not supported/,
  );
  userError(() => parseModelConfig({ ...qwenCoder, hidden_size: undefined }), 'config.json: missing field "hidden_size"');
  userError(
    () => parseModelConfig({ ...qwenCoder, vocab_size: '151936' }),
    'config.json: field "vocab_size" must be a positive integer, got "151936"',
  );
  userError(
    () => parseModelConfig({ ...qwenCoder, num_key_value_heads: 3 }),
    /num_attention_heads \(14\) is not a multiple of num_key_value_heads \(3\)/,
  );
  userError(
    () => parseModelConfig({ ...qwenCoder, hidden_size: 900 }),
    /hidden_size \(900\) is not a multiple of num_attention_heads \(14\)/,
  );
  userError(() => parseModelConfig({ ...qwenCoder, rms_norm_eps: -1 }), /"rms_norm_eps" must be a positive number/);
  userError(() => parseModelConfig({ ...qwenCoder, tie_word_embeddings: 'yes' }), /"tie_word_embeddings" must be true or false/);
  userError(() => parseModelConfig({ ...qwenCoder, eos_token_id: 'x' }), /"eos_token_id" must be a token id or a list of them/);
  userError(
    () => parseModelConfig({ ...qwenCoder, rope_scaling: { type: 'longrope', factor: 2 } }),
    /rope_scaling type "longrope" is not supported/,
  );
  userError(
    () => parseModelConfig({ ...llama32, rope_scaling: { ...llama32.rope_scaling, low_freq_factor: undefined } }),
    /rope_scaling: missing field "low_freq_factor"/,
  );
  userError(() => parseModelConfig([1]), 'config.json: not a JSON object');
});

test('configKey: stable, blind to fields that do not shape the graph, sensitive to those that do', () => {
  const base = parseModelConfig(qwenCoder);
  const key = configKey(base);
  assert.match(key, /^[0-9a-f]{16}$/);
  const reordered = Object.fromEntries(Object.entries(qwenCoder).reverse());
  assert.equal(configKey(parseModelConfig(reordered)), key);
  assert.equal(configKey(parseModelConfig({ ...qwenCoder, eos_token_id: 7, torch_dtype: 'float32' })), key);
  for (const change of [
    { num_hidden_layers: 23 },
    { rope_theta: 10000 },
    { tie_word_embeddings: false },
    { rope_scaling: { type: 'linear', factor: 2 } },
  ]) {
    assert.notEqual(configKey(parseModelConfig({ ...qwenCoder, ...change })), key, JSON.stringify(change));
  }
});

test('readModelConfig reads config.json and adds generation_config.json eos ids', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-config-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  userError(() => readModelConfig(dir), /has no config\.json/);
  fs.writeFileSync(path.join(dir, 'config.json'), '{"architectures": [');
  userError(() => readModelConfig(dir), /config\.json is not valid JSON/);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(qwenCoder));
  fs.writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: [151645, 151643] }));
  assert.deepEqual(readModelConfig(dir).eosTokenIds, [151643, 151645]);
});
