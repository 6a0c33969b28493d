// AdamW with decoupled weight decay, step for step what torch.optim.AdamW does (non-amsgrad).

export interface AdamWOptions {
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** The optimizer's moments for one tensor. */
export interface AdamMoments {
  m: Float32Array;
  v: Float32Array;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Optimizer steps taken so far (torch's `state['step']`). */
  step = 0;
  readonly moments = new Map<string, AdamMoments>();

  constructor(opts: AdamWOptions = {}) {
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
  }

  private momentsOf(name: string, size: number): AdamMoments {
    let s = this.moments.get(name);
    if (!s) this.moments.set(name, (s = { m: new Float32Array(size), v: new Float32Array(size) }));
    return s;
  }

  /**
   * One update of every tensor in `params` from its gradient at learning rate `lr`.
   * `decays(name)` says whether weight decay applies to that tensor.
   */
  update(
    params: ReadonlyMap<string, Float32Array>,
    grads: ReadonlyMap<string, ArrayLike<number>>,
    lr: number,
    decays: (name: string) => boolean = () => true,
  ): void {
    this.step++;
    const { beta1: b1, beta2: b2, eps } = this;
    const stepSize = lr / (1 - b1 ** this.step);
    const bc2Sqrt = Math.sqrt(1 - b2 ** this.step);
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) throw new Error(`AdamW: no gradient for "${name}"`);
      const { m, v } = this.momentsOf(name, p.length);
      const shrink = decays(name) ? 1 - lr * this.weightDecay : 1;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        const mi = (m[i] = b1 * m[i] + (1 - b1) * gi);
        const vi = (v[i] = b2 * v[i] + (1 - b2) * gi * gi);
        p[i] = p[i] * shrink - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
      }
    }
  }
}
