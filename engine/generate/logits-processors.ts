/**
 * In-place transforms of one row of next-token logits, in the order Hugging Face applies them:
 * repetition penalty, then temperature, then top-k, then top-p.
 */

/** CTRL's penalty as HF applies it: seen tokens' positive logits are divided by `penalty`, negative ones multiplied. */
export function applyRepetitionPenalty(logits: Float32Array, seen: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of new Set(seen)) {
    const l = logits[id];
    logits[id] = l < 0 ? l * penalty : l / penalty;
  }
}

export function applyTemperature(logits: Float32Array, temperature: number): void {
  if (temperature === 1) return;
  for (let i = 0; i < logits.length; i++) logits[i] /= temperature;
}

/** Keeps the k largest logits (ties at the k-th value kept), the rest become -Infinity. */
export function applyTopK(logits: Float32Array, k: number): void {
  if (k <= 0 || k >= logits.length) return;
  const threshold = Float32Array.from(logits).sort().reverse()[k - 1];
  for (let i = 0; i < logits.length; i++) if (logits[i] < threshold) logits[i] = -Infinity;
}

/** Nucleus sampling: keeps the smallest set of most likely tokens whose probability reaches `p` (at least one). */
export function applyTopP(logits: Float32Array, p: number): void {
  if (p >= 1) return;
  const probs = softmax(logits);
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]);
  let mass = 0;
  let keep = 0;
  while (keep < order.length && (keep === 0 || mass < p)) mass += probs[order[keep++]];
  for (const i of order.slice(keep)) logits[i] = -Infinity;
}

export function softmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const l of logits) if (l > max) max = l;
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** log Σ exp(logits), computed stably. */
export function logSumExp(logits: Float32Array): number {
  let max = -Infinity;
  for (const l of logits) if (l > max) max = l;
  let sum = 0;
  for (const l of logits) sum += Math.exp(l - max);
  return max + Math.log(sum);
}

export function logSoftmax(logits: Float32Array): Float64Array {
  const lse = logSumExp(logits);
  return Float64Array.from(logits, (l) => l - lse);
}

/** log p(id) under softmax(logits), without building the whole distribution. */
export function logProbOf(logits: Float32Array, id: number): number {
  return logits[id] - logSumExp(logits);
}

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}
