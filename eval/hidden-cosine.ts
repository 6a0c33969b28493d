// The model's own view of how close two texts are: each text is run through the model alone
// (no prompt, no special tokens), its final normed hidden states are averaged over its tokens,
// and the two means are compared by cosine similarity.
import { loadCausalLM, loadTokenizer, type CausalLM, type Device, type QuantMode, type Tokenizer } from '../engine/index.js';
import { cosineSimilarity } from './metrics/cosine.js';

/** Texts longer than this many tokens are judged by their first this many. */
export const MAX_JUDGED_TOKENS = 512;

export class HiddenStateJudge {
  private readonly cache = new Map<string, Float32Array | null>();

  private constructor(
    private readonly lm: CausalLM,
    private readonly tokenizer: Tokenizer,
  ) {}

  static async load(modelDir: string, opts: { threads?: number; device?: Device; quant?: QuantMode } = {}): Promise<HiddenStateJudge> {
    const [lm, tokenizer] = await Promise.all([loadCausalLM(modelDir, { ...opts, logits: 'last', hidden: true }), loadTokenizer(modelDir)]);
    return new HiddenStateJudge(lm, tokenizer);
  }

  /** The mean final hidden state of the text's tokens; null for a text with no tokens. */
  async embed(text: string): Promise<Float32Array | null> {
    if (this.cache.has(text)) return this.cache.get(text)!;
    const limit = Math.min(MAX_JUDGED_TOKENS, this.lm.config.maxPositionEmbeddings);
    const ids = this.tokenizer.encode(text).slice(0, limit);
    let mean: Float32Array | null = null;
    if (ids.length) {
      const { hidden } = await this.lm.forward([ids], this.lm.emptyCache(1));
      if (!hidden) throw new Error('the model graph returned no hidden states');
      const size = this.lm.config.hiddenSize;
      const sum = new Float64Array(size);
      for (let t = 0; t < ids.length; t++) for (let i = 0; i < size; i++) sum[i] += hidden[t * size + i];
      mean = Float32Array.from(sum, (v) => v / ids.length);
    }
    this.cache.set(text, mean);
    return mean;
  }

  /**
   * Cosine similarity of the two texts' mean hidden states. A text with no tokens (the empty
   * text) has no hidden states: two empty texts are identical (1), an empty and a non-empty one
   * share nothing (0).
   */
  async similarity(generated: string, expected: string): Promise<number> {
    const [a, b] = [await this.embed(generated), await this.embed(expected)];
    if (!a || !b) return !a && !b ? 1 : 0;
    return cosineSimilarity(a, b);
  }

  async release(): Promise<void> {
    this.cache.clear();
    await this.lm.release();
  }
}
