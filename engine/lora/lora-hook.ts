// LoRA injected into the decoder's projections: y + scale * (dropout(x) @ Aᵀ) @ Bᵀ.
import type { Builder } from '../graph/builder.js';
import type { Value } from '../graph/graph.js';
import type { LinearHook } from '../llama/decoder.js';
import { hashedDropout } from './lora-dropout.js';
import type { LoraLayout, LoraModule } from './lora-layout.js';

export interface LoraHookOptions {
  /** The A [r, in] and B [out, r] values of a module (graph inputs or initializers), made on first use. */
  matrices: (b: Builder, m: LoraModule) => { A: Value; B: Value };
  /** Multiply by each module's scale in the graph; false when the scale is already folded into the fed B. */
  scaleInGraph: boolean;
  /** Training-time dropout on the LoRA branch's input, driven by an int64 scalar seed input. */
  dropout?: { p: number; seed: Value };
}

/** A LinearHook that adds the LoRA branch to every projection of `layout` and leaves the others alone. */
export function loraHook(layout: LoraLayout, opts: LoraHookOptions): LinearHook {
  const byModule = new Map(layout.modules.map((m, i) => [m.module, { m, salt: i + 1 }]));
  return (b, x, module, y) => {
    const hit = byModule.get(module);
    if (!hit) return y;
    const { A, B } = opts.matrices(b, hit.m);
    const input = opts.dropout && opts.dropout.p > 0 ? hashedDropout(b, x, opts.dropout.p, opts.dropout.seed, hit.salt) : x;
    const down = b.gemm(input, A, { transB: true });
    const up = b.gemm(down, B, { transB: true });
    return b.add(y, opts.scaleInGraph && hit.m.scale !== 1 ? b.mul(up, b.scalar(hit.m.scale, up)) : up);
  };
}

/** The LoRA matrices as graph inputs named by their PEFT keys, ranks symbolic so any rank fits one graph. */
export function loraInputs(symbolicRank: boolean): (b: Builder, m: LoraModule) => { A: Value; B: Value } {
  return (b, m) => {
    const r = symbolicRank ? `lora_r_${m.module.replace(/\W/g, '_')}` : m.r;
    const get = (name: string, shape: (number | string)[]) => (b.has(name) ? b.value(name) : b.input(name, b.floatType, shape));
    return { A: get(m.keyA, [r, m.inFeatures]), B: get(m.keyB, [m.outFeatures, r]) };
  };
}
