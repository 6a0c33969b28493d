// A real model folder whose greedy completion is known in advance: after <fim_middle> it writes
// `script` and then end-of-text, whatever the prompt. Server tests can then check exact inserted
// text, post-processing included, through the real engine.
//
// How: every layer's output projections are zero, so the hidden state is the last token's
// embedding. Each token of the script gets its own one-hot embedding, and lm_head maps that
// direction to the next token of the script (the last one to end-of-text, or back to the first
// with `loop`); every other token has a zero embedding, so its logits are all zero and argmax is
// id 0, end-of-text. (A token may appear only once in the script: the model sees one token.)
import {
  defaultLoraSpec,
  expectedTensors,
  layoutForSpec,
  loadTokenizer,
  makeLoraAdapter,
  readModelConfig,
  writePeftAdapter,
  writeSafetensors,
  type TensorToWrite,
} from '../../engine/index.js';
import { makeTinyModel } from './tiny-model.js';

export interface ScriptOptions {
  /** Repeat the script until the token limit (a generation that only a limit or a cancel stops). */
  loop?: boolean;
  maxPositionEmbeddings?: number;
}

export async function makeScriptedModel(dir: string, script: string, opts: ScriptOptions = {}): Promise<void> {
  const hidden = 32;
  const { config } = makeTinyModel(dir, {
    architecture: 'LlamaForCausalLM',
    layers: 1,
    hidden,
    heads: 4,
    seed: 3,
    maxPositionEmbeddings: opts.maxPositionEmbeddings ?? 2048,
  });
  const tok = await loadTokenizer(dir);
  const chain = [tok.tokenToId('<fim_middle>')!, ...tok.encode(script)];
  if (new Set(chain).size !== chain.length) throw new Error(`script ${JSON.stringify(script)} repeats a token: ${chain.join(',')}`);
  if (chain.length > hidden) throw new Error(`script ${JSON.stringify(script)} has more than ${hidden - 1} tokens`);
  const after = (slot: number) => chain[slot + 1] ?? (opts.loop ? chain[1] : tok.eosTokenIds[0]);
  const tensors: TensorToWrite[] = expectedTensors(config).map(({ name, shape }) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('norm.weight')) data.fill(1);
    else if (name === 'model.embed_tokens.weight')
      chain.forEach((id, slot) => {
        data[id * hidden + slot] = 1;
      });
    else if (name === 'lm_head.weight')
      chain.forEach((_, slot) => {
        data[after(slot) * hidden + slot] = 1;
      });
    else if (!/o_proj|down_proj/.test(name)) for (let i = 0; i < data.length; i++) data[i] = Math.sin(i + 1) * 0.1;
    return { name, dtype: 'F32', shape, data };
  });
  writeSafetensors(`${dir}/model.safetensors`, tensors, { format: 'pt' });
}

/** A valid PEFT adapter for the model in `modelDir` whose B matrices are zero: it changes nothing. */
export function writeNoOpAdapter(dir: string, modelDir: string): void {
  const spec = defaultLoraSpec({ r: 2 });
  const layout = layoutForSpec(readModelConfig(modelDir), spec);
  const matrices = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const m of layout.modules) {
    matrices.set(m.keyA, {
      shape: [m.r, m.inFeatures],
      data: Float32Array.from({ length: m.r * m.inFeatures }, (_, i) => Math.cos(i) * 0.01),
    });
    matrices.set(m.keyB, { shape: [m.outFeatures, m.r], data: new Float32Array(m.outFeatures * m.r) });
  }
  writePeftAdapter(dir, makeLoraAdapter(spec, null, matrices));
}
