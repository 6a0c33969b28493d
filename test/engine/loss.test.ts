// The causal-LM loss on a tiny Llama/Qwen2 decoder in float64: its value against a plain-JS
// cross-entropy of the logits, and the gradients of every weight against finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad } from '../../engine/autodiff/grad.js';
import { parseModelConfig, type ModelConfig } from '../../engine/config.js';
import { UserError, Rng } from '../../common/index.js';
import { Builder } from '../../engine/graph/builder.js';
import type { Value } from '../../engine/graph/graph.js';
import { buildDecoder, lmHead, type ModelParams } from '../../engine/llama/decoder.js';
import { buildCausalLmLoss, causalLmTargets, lossFeeds, nextTokenTargets, type LossTargets } from '../../engine/llama/loss.js';
import { ort } from '../../engine/session.js';
import { assertClose, openGraph } from '../helpers/autodiff-fd.js';

function tinyConfig(arch: 'Qwen2ForCausalLM' | 'LlamaForCausalLM', tied: boolean): ModelConfig {
  return parseModelConfig({
    architectures: [arch],
    vocab_size: 11,
    hidden_size: 8,
    intermediate_size: 12,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    tie_word_embeddings: tied,
  });
}

/** Every weight is a float64 graph input, recorded with its shape. */
function inputParams(b: Builder): ModelParams & { all: Value[] } {
  const all: Value[] = [];
  return {
    all,
    get(name, shape) {
      if (b.has(name)) return b.value(name);
      const v = b.input(name, b.floatType, shape);
      all.push(v);
      return v;
    },
  };
}

const IDS = [
  [3, 7, 1, 7, 2],
  [5, 5, 0, 10, 4],
];
// Row 1 is left-padded by one token; the pad and the token after it are not predicted.
const ATTENTION = [
  [1, 1, 1, 1, 1],
  [0, 1, 1, 1, 1],
];
const POSITIONS = [
  [0, 1, 2, 3, 4],
  [0, 0, 1, 2, 3],
];
const LABELS = [
  [3, 7, -100, 7, 2],
  [-100, -100, 0, 10, 4],
];

const int64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0].length]);

async function tinyModel(cfg: ModelConfig, targets: LossTargets) {
  const b = new Builder('float64');
  const params = inputParams(b);
  const dec = buildDecoder(b, cfg, params, { kvCache: false });
  const { loss } = buildCausalLmLoss(b, cfg, params, dec);
  b.output(loss, 'loss');
  b.output(lmHead(b, cfg, params, dec.hidden), 'all_logits');
  const forwardCount = b.nodes.length;
  const grads = grad(b, loss, params.all);
  for (const p of params.all) b.output(grads.get(p.name)!, `grad.${p.name}`);

  const rng = new Rng(11);
  const weights = new Map(
    params.all.map((p) => {
      const n = (p.shape as number[]).reduce((a, d) => a * d, 1);
      const isNorm = p.name.endsWith('norm.weight');
      return [p.name, Float64Array.from({ length: n }, () => (isNorm ? 1 + 0.2 * rng.normal() : 0.5 * rng.normal()))];
    }),
  );
  const { session, close } = await openGraph(b);
  const fixed = {
    input_ids: int64(IDS),
    attention_mask: int64(ATTENTION),
    position_ids: int64(POSITIONS),
    ...lossFeeds(targets),
  };
  const run = (w: Map<string, Float64Array>) =>
    session.run({
      ...fixed,
      ...Object.fromEntries(params.all.map((p) => [p.name, new ort.Tensor('float64', w.get(p.name)!, p.shape as number[])])),
    });
  return { b, forwardCount, params: params.all, weights, run, close };
}

function crossEntropy(logits: Float64Array, vocab: number, t: LossTargets): number {
  let total = 0;
  t.positions.forEach((pos, i) => {
    const row = logits.subarray(Number(pos) * vocab, (Number(pos) + 1) * vocab);
    const max = Math.max(...row);
    const logZ = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    total += logZ - row[Number(t.labels[i])];
  });
  return total / t.positions.length;
}

for (const [arch, tied] of [
  ['Qwen2ForCausalLM', true],
  ['Qwen2ForCausalLM', false],
  ['LlamaForCausalLM', false],
] as const) {
  test(`${arch} (GQA${arch.startsWith('Qwen') ? ', qkv bias' : ''}, ${tied ? 'tied' : 'untied'}): loss and gradients of every weight`, async () => {
    const cfg = tinyConfig(arch, tied);
    const targets = causalLmTargets(LABELS, cfg.vocabSize);
    const m = await tinyModel(cfg, targets);
    try {
      const names = m.params.map((p) => p.name);
      assert.equal(names.includes('lm_head.weight'), !tied);
      assert.equal(names.includes('model.layers.1.self_attn.q_proj.bias'), cfg.qkvBias);
      const base = await m.run(m.weights);
      const loss = Number(base.loss.data[0]);
      assertClose([loss], [crossEntropy(base.all_logits.data as Float64Array, cfg.vocabSize, targets)], 1e-12, 1e-12, 'loss');

      // Per weight: a random direction (every element weighs in) and two single elements.
      // (Truncation error shrinks 100x per 10x smaller step down to 1e-6, where rounding takes over.)
      const rng = new Rng(3);
      const eps = 1e-6;
      const lossAt = async (name: string, dir: Float64Array, scale: number) => {
        const moved = new Map(m.weights);
        moved.set(
          name,
          m.weights.get(name)!.map((v, i) => v + scale * dir[i]),
        );
        return Number((await m.run(moved)).loss.data[0]);
      };
      for (const p of m.params) {
        const g = base[`grad.${p.name}`].data as Float64Array;
        const n = g.length;
        const oneHot = (i: number) => Float64Array.from({ length: n }, (_, j) => (j === i ? 1 : 0));
        const dirs = [Float64Array.from({ length: n }, () => rng.normal()), oneHot(rng.int(n)), oneHot(rng.int(n))];
        for (const dir of dirs) {
          const numeric = ((await lossAt(p.name, dir, eps)) - (await lossAt(p.name, dir, -eps))) / (2 * eps);
          const analytic = g.reduce((s, v, i) => s + v * dir[i], 0);
          assertClose([analytic], [numeric], 1e-6, 1e-8, `d loss / d ${p.name} along a direction`);
        }
      }

      // The vocabulary softmax is formed once, in the backward of logsumexp, and nowhere else.
      const back = m.b.nodes.slice(m.forwardCount);
      assert.equal(back.filter((n) => n.op === 'Exp').length, 1);
      assert.equal(m.b.nodes.filter((n) => n.op === 'Softmax' && m.b.value(n.outputs[0]).shape.includes(cfg.vocabSize)).length, 0);
    } finally {
      await m.close();
    }
  });
}

test("'sum' reduction is N times the mean, in value and gradient", async () => {
  const cfg = tinyConfig('LlamaForCausalLM', true);
  const targets = nextTokenTargets(IDS);
  const run = async (reduction: 'mean' | 'sum') => {
    const b = new Builder('float64');
    const params = inputParams(b);
    const { loss } = buildCausalLmLoss(b, cfg, params, buildDecoder(b, cfg, params, { kvCache: false }), { reduction });
    b.output(loss, 'loss');
    const embed = b.value('model.embed_tokens.weight');
    b.output(grad(b, loss, [embed]).get(embed.name)!, 'grad');
    const rng = new Rng(5);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(IDS),
      attention_mask: int64(IDS.map((r) => r.map(() => 1))),
      position_ids: int64(IDS.map((r) => r.map((_, i) => i))),
      ...lossFeeds(targets),
    };
    for (const p of params.all) {
      const dims = p.shape as number[];
      feeds[p.name] = new ort.Tensor(
        'float64',
        Float64Array.from({ length: dims.reduce((a, d) => a * d, 1) }, () => rng.normal() * 0.5),
        dims,
      );
    }
    const { session, close } = await openGraph(b);
    try {
      const out = await session.run(feeds);
      return { loss: Number(out.loss.data[0]), grad: out.grad.data as Float64Array };
    } finally {
      await close();
    }
  };
  const mean = await run('mean');
  const sum = await run('sum');
  const n = targets.positions.length;
  assertClose([sum.loss], [mean.loss * n], 1e-12, 0, 'loss');
  assertClose(
    sum.grad,
    mean.grad.map((v) => v * n),
    1e-10,
    1e-12,
    'gradient',
  );
});

test('Hugging Face labels become shifted label positions over the flattened batch', () => {
  const t = causalLmTargets(LABELS);
  // Row 0: labels at s = 1, 3, 4 are predicted from s - 1 = 0, 2, 3. Row 1 (offset 5): s = 2, 3, 4 from 6, 7, 8.
  assert.deepEqual(Array.from(t.positions, Number), [0, 2, 3, 6, 7, 8]);
  assert.deepEqual(Array.from(t.labels, Number), [7, 7, 2, 0, 10, 4]);
});

test('next-token targets predict tokens 1..n-1 of every row', () => {
  const t = nextTokenTargets([
    [4, 5, 6],
    [7, 8, 9],
  ]);
  assert.deepEqual(Array.from(t.positions, Number), [0, 1, 3, 4]);
  assert.deepEqual(Array.from(t.labels, Number), [5, 6, 8, 9]);
});

test('bad labels are user errors naming the problem', () => {
  assert.throws(
    () => causalLmTargets([[1, 2], [3]]),
    (e: unknown) => e instanceof UserError && /row 1 has 1 tokens/.test(e.message),
  );
  assert.throws(
    () => causalLmTargets([[1, 12]], 11),
    (e: unknown) => e instanceof UserError && /label 12 at row 0, position 1/.test(e.message),
  );
  assert.throws(
    () => causalLmTargets([[1, -100]]),
    (e: unknown) => e instanceof UserError && /no labelled positions/.test(e.message),
  );
  assert.throws(() => nextTokenTargets([[1]]), UserError);
});
