// Global gradient-norm clipping, as torch.nn.utils.clip_grad_norm_.

/** The L2 norm of all gradients together. */
export function globalNorm(grads: Iterable<ArrayLike<number>>): number {
  let sum = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  return Math.sqrt(sum);
}

/** Scales every gradient in place so the global norm is at most `maxNorm`; returns the norm before clipping. */
export function clipGradNorm(grads: Iterable<Float32Array | Float64Array>, maxNorm: number): number {
  const list = [...grads];
  const norm = globalNorm(list);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of list) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return norm;
}
