// An independent plain-TypeScript forward pass of the Llama family in float64, written from the
// Hugging Face modeling_llama / modeling_qwen2 semantics, to check the ONNX engine against.
// Deliberately simple: no KV cache, no padding, full causal attention, one sequence at a time.
import type { ModelConfig } from '../../engine/index.js';

type Weights = Map<string, Float32Array>;

export interface Rope {
  invFreq: Float64Array;
  /** Multiplies cos and sin (YaRN's attention factor; 1 otherwise). */
  attentionScaling: number;
}

function defaultInvFreq(base: number, dim: number): Float64Array {
  const out = new Float64Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) out[i] = 1 / base ** ((2 * i) / dim);
  return out;
}

/** inv_freq as Hugging Face's rope init functions compute it, for a sequence of `seqLen` tokens. */
export function referenceRope(config: ModelConfig, seqLen: number): Rope {
  const dim = config.headDim;
  const base = config.ropeTheta;
  const s = config.ropeScaling;
  if (s === null) return { invFreq: defaultInvFreq(base, dim), attentionScaling: 1 };
  switch (s.type) {
    case 'linear':
      return { invFreq: defaultInvFreq(base, dim).map((f) => f / s.factor), attentionScaling: 1 };
    case 'dynamic': {
      const max = s.originalMaxPositionEmbeddings;
      if (seqLen <= max) return { invFreq: defaultInvFreq(base, dim), attentionScaling: 1 };
      const grown = base * ((s.factor * seqLen) / max - (s.factor - 1)) ** (dim / (dim - 2));
      return { invFreq: defaultInvFreq(grown, dim), attentionScaling: 1 };
    }
    case 'llama3': {
      const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
      const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
      const invFreq = defaultInvFreq(base, dim).map((f) => {
        const wavelen = (2 * Math.PI) / f;
        if (wavelen < highWavelen) return f;
        if (wavelen > lowWavelen) return f / s.factor;
        const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        return (1 - smooth) * (f / s.factor) + smooth * f;
      });
      return { invFreq, attentionScaling: 1 };
    }
    case 'yarn': {
      const correctionDim = (rotations: number) =>
        (dim * Math.log(s.originalMaxPositionEmbeddings / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
      let low = correctionDim(s.betaFast);
      let high = correctionDim(s.betaSlow);
      if (s.truncate) {
        low = Math.floor(low);
        high = Math.ceil(high);
      }
      low = Math.max(low, 0);
      high = Math.min(high, dim - 1);
      if (low === high) high += 0.001;
      const extrapolation = defaultInvFreq(base, dim);
      const invFreq = extrapolation.map((f, i) => {
        const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
        const extrapolationWeight = 1 - ramp;
        return (f / s.factor) * (1 - extrapolationWeight) + f * extrapolationWeight;
      });
      return { invFreq, attentionScaling: s.attentionFactor };
    }
  }
}

/** x * cos + rotate_half(x) * sin, where rotate_half(x) = [-x2, x1] for halves x1, x2 (in place). */
export function applyRope(x: Float64Array, position: number, rope: Rope): void {
  const half = x.length / 2;
  for (let i = 0; i < half; i++) {
    const angle = position * rope.invFreq[i];
    const cos = Math.cos(angle) * rope.attentionScaling;
    const sin = Math.sin(angle) * rope.attentionScaling;
    const a = x[i];
    const b = x[i + half];
    x[i] = a * cos - b * sin;
    x[i + half] = b * cos + a * sin;
  }
}

function weight(w: Weights, name: string): Float32Array {
  const t = w.get(name);
  if (!t) throw new Error(`reference model: missing tensor ${name}`);
  return t;
}

/** y = W x (+ b) for W of shape [out, in], row-major. */
function linear(x: Float64Array, w: Float32Array, bias: Float32Array | undefined, out: number): Float64Array {
  const inDim = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let sum = bias ? bias[o] : 0;
    const row = o * inDim;
    for (let i = 0; i < inDim; i++) sum += w[row + i] * x[i];
    y[o] = sum;
  }
  return y;
}

function rmsNorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let sumSq = 0;
  for (const v of x) sumSq += v * v;
  const scale = 1 / Math.sqrt(sumSq / x.length + eps);
  return x.map((v, i) => v * scale * w[i]);
}

const silu = (v: number) => v / (1 + Math.exp(-v));

function projection(w: Weights, name: string, x: Float64Array, out: number, withBias: boolean): Float64Array {
  return linear(x, weight(w, `${name}.weight`), withBias ? weight(w, `${name}.bias`) : undefined, out);
}

function attention(config: ModelConfig, w: Weights, layer: number, xs: Float64Array[], rope: Rope): Float64Array[] {
  const { numHeads, numKvHeads, headDim, hiddenSize } = config;
  const p = `model.layers.${layer}.self_attn`;
  const groupSize = numHeads / numKvHeads;
  const qs = xs.map((x) => projection(w, `${p}.q_proj`, x, numHeads * headDim, config.qkvBias));
  const ks = xs.map((x) => projection(w, `${p}.k_proj`, x, numKvHeads * headDim, config.qkvBias));
  const vs = xs.map((x) => projection(w, `${p}.v_proj`, x, numKvHeads * headDim, config.qkvBias));
  const head = (v: Float64Array, h: number) => v.subarray(h * headDim, (h + 1) * headDim);
  qs.forEach((q, t) => {
    for (let h = 0; h < numHeads; h++) applyRope(head(q, h), t, rope);
  });
  ks.forEach((k, t) => {
    for (let h = 0; h < numKvHeads; h++) applyRope(head(k, h), t, rope);
  });
  const scale = 1 / Math.sqrt(headDim);
  return qs.map((q, t) => {
    const merged = new Float64Array(numHeads * headDim);
    for (let h = 0; h < numHeads; h++) {
      const kvHead = Math.floor(h / groupSize);
      const qh = head(q, h);
      const scores = new Float64Array(t + 1);
      for (let s = 0; s <= t; s++) {
        const kh = head(ks[s], kvHead);
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += qh[d] * kh[d];
        scores[s] = dot * scale;
      }
      const max = Math.max(...scores);
      let total = 0;
      for (let s = 0; s <= t; s++) total += scores[s] = Math.exp(scores[s] - max);
      const out = head(merged, h);
      for (let s = 0; s <= t; s++) {
        const vh = head(vs[s], kvHead);
        for (let d = 0; d < headDim; d++) out[d] += (scores[s] / total) * vh[d];
      }
    }
    return projection(w, `${p}.o_proj`, merged, hiddenSize, config.oBias);
  });
}

function mlp(config: ModelConfig, w: Weights, layer: number, x: Float64Array): Float64Array {
  const p = `model.layers.${layer}.mlp`;
  const gate = projection(w, `${p}.gate_proj`, x, config.intermediateSize, config.mlpBias);
  const up = projection(w, `${p}.up_proj`, x, config.intermediateSize, config.mlpBias);
  return projection(
    w,
    `${p}.down_proj`,
    gate.map((g, i) => silu(g) * up[i]),
    config.hiddenSize,
    config.mlpBias,
  );
}

function addInto(a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
}

function sequenceLogits(config: ModelConfig, w: Weights, ids: number[]): Float64Array[] {
  const { hiddenSize, vocabSize, rmsNormEps: eps } = config;
  const embed = weight(w, 'model.embed_tokens.weight');
  const hs = ids.map((id) => {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new Error(`reference model: token id ${id} out of range`);
    return Float64Array.from(embed.subarray(id * hiddenSize, (id + 1) * hiddenSize));
  });
  const rope = referenceRope(config, ids.length);
  for (let l = 0; l < config.numLayers; l++) {
    const p = `model.layers.${l}`;
    const attnOut = attention(
      config,
      w,
      l,
      hs.map((h) => rmsNorm(h, weight(w, `${p}.input_layernorm.weight`), eps)),
      rope,
    );
    hs.forEach((h, t) => addInto(h, attnOut[t]));
    for (const h of hs) addInto(h, mlp(config, w, l, rmsNorm(h, weight(w, `${p}.post_attention_layernorm.weight`), eps)));
  }
  const head = weight(w, config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
  return hs.map((h) => linear(rmsNorm(h, weight(w, 'model.norm.weight'), eps), head, undefined, vocabSize));
}

/** Logits for every position of every row: result[row][position] has `vocabSize` entries. */
export function referenceLogits(config: ModelConfig, tensors: Map<string, Float32Array>, ids: number[][]): Float64Array[][] {
  return ids.map((row) => sequenceLogits(config, tensors, row));
}
