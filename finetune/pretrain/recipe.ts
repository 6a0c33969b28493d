// The recipe of codefudge's embedded model: its shape and how it is trained. `pretrain` writes it
// into the model card, so the shipped model says how to reproduce it.

export interface PretrainRecipe {
  vocabSize: number;
  hiddenSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediateSize: number;
  ropeTheta: number;
  /** Tokens per training row (documents are packed, separated by <|endoftext|>). */
  seqLen: number;
  batchSize: number;
  lr: number;
  minLrRatio: number;
  warmupSteps: number;
  weightDecay: number;
  fimRate: number;
  spmRate: number;
  /** FIM-transform pieces of at most this many characters instead of whole files (0: whole files). */
  fimChunkChars: number;
  /** Share of FIM examples cut at line starts (see FimOptions.lineRate). */
  fimLineRate: number;
  validationFraction: number;
  /** Bytes of the training split the BPE tokenizer is trained on. */
  tokenizerBytes: number;
  seed: number;
}

/**
 * Sized for the 2-core machine: ~6.5M parameters (13 MB in F16) train at ~2k tokens/s, so a
 * couple of hours sees ~10M tokens — about one pass over the Python standard library.
 */
export const DEFAULT_RECIPE: PretrainRecipe = {
  vocabSize: 8192,
  hiddenSize: 256,
  layers: 6,
  heads: 8,
  kvHeads: 4,
  intermediateSize: 704,
  ropeTheta: 10000,
  seqLen: 256,
  batchSize: 8,
  lr: 2e-3,
  minLrRatio: 0.1,
  warmupSteps: 100,
  weightDecay: 0.1,
  fimRate: 0.5,
  spmRate: 0.5,
  fimChunkChars: 0,
  fimLineRate: 0,
  validationFraction: 0.04,
  tokenizerBytes: 20_000_000,
  seed: 0,
};

/** How the recipe turns documents into rows: FIM rates, chunking, row length and seed. */
export function recipeRowOptions(r: PretrainRecipe) {
  return {
    rowLength: r.seqLen,
    seed: r.seed,
    fimRate: r.fimRate,
    spmRate: r.spmRate,
    fimChunkChars: r.fimChunkChars,
    lineRate: r.fimLineRate,
  };
}

/** The Hugging Face config.json of a recipe's model (a Llama with tied embeddings). */
export function recipeConfig(r: PretrainRecipe, specialIds: { eot: number }): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: r.vocabSize,
    hidden_size: r.hiddenSize,
    intermediate_size: r.intermediateSize,
    num_hidden_layers: r.layers,
    num_attention_heads: r.heads,
    num_key_value_heads: r.kvHeads,
    // The rows it is trained on: longer prompts would put rotary positions it has never seen.
    max_position_embeddings: r.seqLen,
    rms_norm_eps: 1e-5,
    rope_theta: r.ropeTheta,
    tie_word_embeddings: true,
    attention_bias: false,
    mlp_bias: false,
    hidden_act: 'silu',
    bos_token_id: specialIds.eot,
    eos_token_id: specialIds.eot,
    torch_dtype: 'float16',
    // FIM-transformed whole files packed into short rows rarely give a row a whole PSM example, while
    // SPM puts the prefix right before the middle: such a model completes best in SPM order.
    codefudge: { fim_mode: r.fimChunkChars ? 'psm' : 'spm' },
  };
}
