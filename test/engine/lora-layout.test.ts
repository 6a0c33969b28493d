import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  defaultLoraSpec,
  initLoraMatrices,
  layoutForSpec,
  loraScale,
  parseModelConfig,
  parsePeftKey,
  peftKey,
  targetsModule,
} from '../../engine/index.js';
import { Rng, UserError } from '../../common/index.js';

const cfg = parseModelConfig({
  architectures: ['Qwen2ForCausalLM'],
  vocab_size: 32,
  hidden_size: 16,
  intermediate_size: 40,
  num_hidden_layers: 3,
  num_attention_heads: 4,
  num_key_value_heads: 2,
});

describe('LoRA layout', () => {
  it('targets modules the way PEFT matches target_modules, with layers_to_transform', () => {
    const list = { targets: ['q_proj', 'mlp.down_proj'] };
    assert.ok(targetsModule(list, 'model.layers.0.self_attn.q_proj'));
    assert.ok(targetsModule(list, 'model.layers.2.mlp.down_proj'));
    assert.ok(!targetsModule(list, 'model.layers.0.self_attn.k_proj'));
    assert.ok(!targetsModule({ targets: ['proj'] }, 'model.layers.0.self_attn.q_proj'), 'a suffix must start at a dot');
    const regex = { targets: String.raw`.*\.(q|v)_proj` };
    assert.ok(targetsModule(regex, 'model.layers.1.self_attn.v_proj'));
    assert.ok(!targetsModule(regex, 'model.layers.1.self_attn.v_proj.extra'), 'a regex matches the whole path');
    assert.ok(!targetsModule({ targets: ['q_proj'], layers: [1] }, 'model.layers.0.self_attn.q_proj'));
    assert.ok(targetsModule({ targets: ['q_proj'], layers: [1] }, 'model.layers.1.self_attn.q_proj'));
  });

  it('sizes every module and applies rank and alpha patterns and rsLoRA', () => {
    const layout = layoutForSpec(
      cfg,
      defaultLoraSpec({
        r: 4,
        alpha: 8,
        rankPattern: { 'layers.1.mlp.up_proj': 2 },
        alphaPattern: { down_proj: 1 },
      }),
    );
    assert.equal(layout.modules.length, 21);
    const find = (m: string) => layout.modules.find((x) => x.module === m)!;
    assert.deepEqual(
      { ...find('model.layers.0.self_attn.k_proj') },
      {
        module: 'model.layers.0.self_attn.k_proj',
        inFeatures: 16,
        outFeatures: 8,
        r: 4,
        scale: 2,
        keyA: 'base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight',
        keyB: 'base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight',
      },
    );
    assert.equal(find('model.layers.1.mlp.up_proj').r, 2);
    assert.equal(find('model.layers.1.mlp.up_proj').scale, 4);
    assert.equal(find('model.layers.0.mlp.up_proj').r, 4);
    assert.equal(find('model.layers.2.mlp.down_proj').scale, 0.25);
    assert.equal(loraScale(16, 4, true), 8);
    assert.deepEqual(parsePeftKey(peftKey('model.layers.2.mlp.down_proj', 'B')), { module: 'model.layers.2.mlp.down_proj', which: 'B' });
    assert.equal(parsePeftKey('base_model.model.lm_head.weight'), undefined);
    assert.throws(
      () => layoutForSpec(cfg, defaultLoraSpec({ targets: ['c_attn'] })),
      (e: Error) =>
        e instanceof UserError &&
        /names "c_attn", which matches no projection of the model \(the model.s projections are q_proj, /.test(e.message),
    );
    assert.throws(() => defaultLoraSpec({ r: 0 }), UserError);
  });

  it('initialises A with kaiming_uniform(a=√5) bounds and B with zeros, reproducibly', () => {
    const layout = layoutForSpec(cfg, defaultLoraSpec({ r: 8, targets: ['down_proj'] }));
    const a = initLoraMatrices(layout, new Rng(1));
    const m = layout.modules[0];
    const A = a.get(m.keyA)!.data;
    const bound = 1 / Math.sqrt(40);
    assert.ok(A.every((v) => Math.abs(v) <= bound));
    assert.ok(Math.max(...A.map(Math.abs)) > 0.9 * bound, 'fills the whole range');
    assert.ok(a.get(m.keyB)!.data.every((v) => v === 0));
    assert.deepEqual(initLoraMatrices(layout, new Rng(1)).get(m.keyA)!.data, A);
  });
});
