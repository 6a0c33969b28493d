import type { ModelConfig, RopeScaling } from '../config.js';

/** Rotary frequencies for one head, after the config's rope scaling, and the factor cos/sin are scaled by. */
export interface RopeTables {
  invFreq: Float64Array;
  attentionFactor: number;
}

function baseInvFreq(theta: number, dim: number): Float64Array {
  const out = new Float64Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) out[i] = 1 / Math.pow(theta, (2 * i) / dim);
  return out;
}

/** Llama 3.1's scaling: long wavelengths are slowed by `factor`, short ones kept, a smooth ramp between. */
function llama3(inv: Float64Array, s: Extract<RopeScaling, { type: 'llama3' }>): Float64Array {
  const { factor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositionEmbeddings: oldCtx } = s;
  const lowWavelen = oldCtx / low;
  const highWavelen = oldCtx / high;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / factor;
    const smooth = (oldCtx / wavelen - low) / (high - low);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/** YaRN: interpolate low frequencies, extrapolate high ones, ramp between the beta_fast/beta_slow bands. */
function yarn(theta: number, dim: number, s: Extract<RopeScaling, { type: 'yarn' }>): RopeTables {
  const { factor, originalMaxPositionEmbeddings: oldCtx } = s;
  const correctionDim = (rot: number) => (dim * Math.log(oldCtx / (rot * 2 * Math.PI))) / (2 * Math.log(theta));
  const bound = (v: number, round: (x: number) => number) => (s.truncate ? round(v) : v);
  const low = Math.max(bound(correctionDim(s.betaFast), Math.floor), 0);
  let high = Math.min(bound(correctionDim(s.betaSlow), Math.ceil), dim - 1);
  if (low === high) high += 0.001;
  const half = dim / 2;
  const invFreq = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    const posFreq = Math.pow(theta, (2 * i) / dim);
    const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
    const extrapolationWeight = 1 - ramp;
    invFreq[i] = (1 / (factor * posFreq)) * (1 - extrapolationWeight) + (1 / posFreq) * extrapolationWeight;
  }
  return { invFreq, attentionFactor: s.attentionFactor };
}

export function ropeTables(cfg: ModelConfig): RopeTables {
  const inv = baseInvFreq(cfg.ropeTheta, cfg.headDim);
  const s = cfg.ropeScaling;
  if (!s) return { invFreq: inv, attentionFactor: 1 };
  switch (s.type) {
    case 'linear':
      return { invFreq: inv.map((f) => f / s.factor), attentionFactor: 1 };
    case 'llama3':
      return { invFreq: llama3(inv, s), attentionFactor: 1 };
    case 'yarn':
      return yarn(cfg.ropeTheta, cfg.headDim, s);
    // Dynamic NTK equals the unscaled rotation up to the original context, the longest prompt we build.
    case 'dynamic':
      return { invFreq: inv, attentionFactor: 1 };
  }
}
