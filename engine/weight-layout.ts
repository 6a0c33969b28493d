// The Hugging Face tensor names and shapes a Llama-family checkpoint has, for a given config.
import type { ModelConfig } from './config.js';

export interface ExpectedTensor {
  name: string;
  shape: number[];
}

export function layerPrefix(layer: number): string {
  return `model.layers.${layer}`;
}

/** Every tensor the model needs; shapes are [out, in] for linear weights, as torch stores them. */
export function expectedTensors(config: ModelConfig): ExpectedTensor[] {
  const { vocabSize: vocab, hiddenSize: hidden, intermediateSize: ffn, numHeads, numKvHeads, headDim } = config;
  const qOut = numHeads * headDim;
  const kvOut = numKvHeads * headDim;
  const out: ExpectedTensor[] = [{ name: 'model.embed_tokens.weight', shape: [vocab, hidden] }];
  const linear = (name: string, outDim: number, inDim: number, bias: boolean) => {
    out.push({ name: `${name}.weight`, shape: [outDim, inDim] });
    if (bias) out.push({ name: `${name}.bias`, shape: [outDim] });
  };
  for (let l = 0; l < config.numLayers; l++) {
    const p = layerPrefix(l);
    out.push({ name: `${p}.input_layernorm.weight`, shape: [hidden] });
    linear(`${p}.self_attn.q_proj`, qOut, hidden, config.qkvBias);
    linear(`${p}.self_attn.k_proj`, kvOut, hidden, config.qkvBias);
    linear(`${p}.self_attn.v_proj`, kvOut, hidden, config.qkvBias);
    linear(`${p}.self_attn.o_proj`, hidden, qOut, config.oBias);
    out.push({ name: `${p}.post_attention_layernorm.weight`, shape: [hidden] });
    linear(`${p}.mlp.gate_proj`, ffn, hidden, config.mlpBias);
    linear(`${p}.mlp.up_proj`, ffn, hidden, config.mlpBias);
    linear(`${p}.mlp.down_proj`, hidden, ffn, config.mlpBias);
  }
  out.push({ name: 'model.norm.weight', shape: [hidden] });
  if (!config.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [vocab, hidden] });
  return out;
}
