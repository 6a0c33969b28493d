// Merged inference: W' = W + scale·B·A folded into the weights once, so the graph is a plain model.
import { createHash } from 'node:crypto';
import type { WeightReader } from '../llama/inference-graph.js';
import type { LoraLayout, LoraModule } from './lora-layout.js';

/** W [out, in] + scale · B [out, r] · A [r, in], accumulated in float64. */
export function mergedWeight(w: Float32Array, m: LoraModule, a: Float32Array, bMat: Float32Array): Float32Array {
  const { inFeatures: n, outFeatures: out, r, scale } = m;
  const merged = new Float32Array(w.length);
  const row = new Float64Array(n);
  for (let o = 0; o < out; o++) {
    row.fill(0);
    for (let k = 0; k < r; k++) {
      const bk = bMat[o * r + k] * scale;
      if (bk === 0) continue;
      for (let i = 0; i < n; i++) row[i] += bk * a[k * n + i];
    }
    for (let i = 0; i < n; i++) merged[o * n + i] = w[o * n + i] + row[i];
  }
  return merged;
}

/** The base weights with every LoRA module of `layout` merged in; other tensors pass through. */
export function mergedWeights(base: WeightReader, layout: LoraLayout, matrix: (key: string) => Float32Array): WeightReader {
  const byWeight = new Map(layout.modules.map((m) => [`${m.module}.weight`, m]));
  return {
    float32(name) {
      const m = byWeight.get(name);
      const w = base.float32(name);
      return m ? mergedWeight(w, m, matrix(m.keyA), matrix(m.keyB)) : w;
    },
  };
}

/** A fingerprint of the LoRA values and scales, for the graph cache key of a merged model. */
export function adapterFingerprint(layout: LoraLayout, matrix: (key: string) => Float32Array): string {
  const hash = createHash('sha256');
  for (const m of layout.modules) {
    hash.update(`${m.module}|${m.r}|${m.scale}\n`);
    for (const key of [m.keyA, m.keyB]) {
      const data = matrix(key);
      hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  }
  return hash.digest('hex').slice(0, 16);
}
