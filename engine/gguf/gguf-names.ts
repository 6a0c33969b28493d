// Tensor names between Hugging Face (model.layers.N.self_attn.q_proj.weight) and llama.cpp
// (blk.N.attn_q.weight), and llama.cpp's q/k row permutation.
//
// convert_hf_to_gguf.py permutes the rows of q_proj and k_proj (weight and bias) of `llama`-architecture
// models so that ggml's rotary embedding, which rotates adjacent pairs (x[2i], x[2i+1]), matches Hugging
// Face's, which rotates halves (x[i], x[i + d/2]). Within each head of d rows, GGUF row 2i + j holds HF row
// j·d/2 + i. Qwen2 is converted without the permutation (llama.cpp runs it with NEOX-style rope).

const LAYER_MAP: readonly (readonly [string, string])[] = [
  ['attn_norm', 'input_layernorm'],
  ['attn_q', 'self_attn.q_proj'],
  ['attn_k', 'self_attn.k_proj'],
  ['attn_v', 'self_attn.v_proj'],
  ['attn_output', 'self_attn.o_proj'],
  ['ffn_norm', 'post_attention_layernorm'],
  ['ffn_gate', 'mlp.gate_proj'],
  ['ffn_up', 'mlp.up_proj'],
  ['ffn_down', 'mlp.down_proj'],
];
const GLOBAL_MAP: readonly (readonly [string, string])[] = [
  ['token_embd', 'model.embed_tokens'],
  ['output_norm', 'model.norm'],
  ['output', 'lm_head'],
];

const GGUF_LAYER = /^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$/;
const HF_LAYER = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/;

/** The Hugging Face name of a GGUF tensor, or undefined for tensors the engine does not use. */
export function hfName(ggufName: string): string | undefined {
  const m = GGUF_LAYER.exec(ggufName);
  if (m) {
    const hf = LAYER_MAP.find(([g]) => g === m[2])?.[1];
    return hf && `model.layers.${m[1]}.${hf}.${m[3]}`;
  }
  const [base, kind] = splitKind(ggufName);
  const hf = GLOBAL_MAP.find(([g]) => g === base)?.[1];
  return hf && kind ? `${hf}.${kind}` : undefined;
}

/** The GGUF name of a Hugging Face tensor, or undefined when llama.cpp has no place for it. */
export function ggufName(hf: string): string | undefined {
  const m = HF_LAYER.exec(hf);
  if (m) {
    const g = LAYER_MAP.find(([, h]) => h === m[2])?.[0];
    return g && `blk.${m[1]}.${g}.${m[3]}`;
  }
  const [base, kind] = splitKind(hf);
  const g = GLOBAL_MAP.find(([, h]) => h === base)?.[0];
  return g && kind ? `${g}.${kind}` : undefined;
}

function splitKind(name: string): [string, string | undefined] {
  const m = /^(.*)\.(weight|bias)$/.exec(name);
  return m ? [m[1], m[2]] : [name, undefined];
}

/** Heads whose rows llama.cpp permutes for this HF tensor (q: attention heads, k: kv heads), or undefined. */
export function permutedHeads(hf: string, numHeads: number, numKvHeads: number): number | undefined {
  if (/\.self_attn\.q_proj\.(weight|bias)$/.test(hf)) return numHeads;
  if (/\.self_attn\.k_proj\.(weight|bias)$/.test(hf)) return numKvHeads;
  return undefined;
}

/**
 * Moves whole rows of `rowBytes` bytes: `toGguf` applies convert_hf_to_gguf's permutation, otherwise undoes
 * it. Rows are moved as bytes, so quantized rows (a row is whole blocks) move without being touched.
 */
export function permuteRows(src: Uint8Array, rows: number, rowBytes: number, heads: number, toGguf: boolean): Uint8Array {
  const d = rows / heads;
  if (!Number.isInteger(d) || d % 2 !== 0) throw new Error(`cannot permute ${rows} rows over ${heads} heads`);
  const out = new Uint8Array(src.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < d / 2; i++) {
      for (let j = 0; j < 2; j++) {
        const g = h * d + 2 * i + j;
        const f = h * d + j * (d / 2) + i;
        const [from, to] = toGguf ? [f, g] : [g, f];
        out.set(src.subarray(from * rowBytes, (from + 1) * rowBytes), to * rowBytes);
      }
    }
  }
  return out;
}
