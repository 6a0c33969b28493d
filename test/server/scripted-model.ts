// A real model folder whose greedy completion is known in advance: after <fim_middle> it writes
// `script` and then end-of-text, whatever the prompt. Server tests can then check exact inserted
// text, post-processing included, through the real engine.
//
// How: every layer's output projections are zero, so the hidden state is the last token's
// embedding. Each token of the script gets its own one-hot embedding, and lm_head maps that
// direction to the next token of the script (the last one to end-of-text); every other token has
// a zero embedding, so its logits are all zero and argmax is id 0, end-of-text.
import { writeSafetensors, expectedTensors, loadTokenizer, type TensorToWrite } from '../../engine/index.js';
import { makeTinyModel } from '../helpers/tiny-model.js';

const FIM_MIDDLE = '<fim_middle>';

export async function makeScriptedModel(dir: string, script: string): Promise<void> {
  const hidden = 32;
  const { config } = makeTinyModel(dir, { architecture: 'LlamaForCausalLM', layers: 1, hidden, heads: 4, seed: 3 });
  const tok = await loadTokenizer(dir);
  const chain = [tok.tokenToId(FIM_MIDDLE)!, ...tok.encode(script)];
  if (new Set(chain).size !== chain.length) throw new Error(`script ${JSON.stringify(script)} repeats a token: ${chain.join(',')}`);
  if (chain.length > hidden) throw new Error(`script ${JSON.stringify(script)} has more than ${hidden - 1} tokens`);
  const eos = tok.eosTokenIds[0];
  const tensors: TensorToWrite[] = expectedTensors(config).map(({ name, shape }) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('norm.weight')) data.fill(1);
    else if (name === 'model.embed_tokens.weight') chain.forEach((id, slot) => { data[id * hidden + slot] = 1; });
    else if (name === 'lm_head.weight') chain.forEach((_, slot) => { data[(chain[slot + 1] ?? eos) * hidden + slot] = 1; });
    else if (!/o_proj|down_proj/.test(name)) for (let i = 0; i < data.length; i++) data[i] = Math.sin(i + 1) * 0.1;
    return { name, dtype: 'F32', shape, data };
  });
  writeSafetensors(`${dir}/model.safetensors`, tensors, { format: 'pt' });
}
