// Fresh LoRA matrices as PEFT initialises them: A ~ kaiming_uniform(a=√5), B = 0, so training
// starts from exactly the base model.
import type { Rng } from '../../common/index.js';
import type { LoraLayout } from './lora-layout.js';

/** torch's kaiming_uniform_(a=√5) bound for fan-in n: gain √(2/(1+5)) · √(3/n) = 1/√n. */
export function kaimingUniformBound(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}

/** A [r, in] uniform in ±1/√in and B [out, r] zero for every module, by PEFT key, in layout order. */
export function initLoraMatrices(layout: LoraLayout, rng: Rng): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const m of layout.modules) {
    const a = new Float32Array(m.r * m.inFeatures);
    const bound = kaimingUniformBound(m.inFeatures);
    for (let i = 0; i < a.length; i++) a[i] = (2 * rng.next() - 1) * bound;
    out.set(m.keyA, { shape: [m.r, m.inFeatures], data: a });
    out.set(m.keyB, { shape: [m.outFeatures, m.r], data: new Float32Array(m.outFeatures * m.r) });
  }
  return out;
}
