// Degenerate generations: text that ends by repeating the same n-gram over and over.

/**
 * The shortest period p (1..maxPeriod) such that the last tokens of `ids` are one p-gram repeated
 * at least `minRepeats` times back to back (the generation is stuck in a loop), or 0.
 */
export function trailingCyclePeriod(ids: readonly number[], maxPeriod = 16, minRepeats = 3): number {
  for (let p = 1; p <= maxPeriod; p++) {
    const span = p * minRepeats;
    if (span > ids.length) break;
    let periodic = true;
    for (let i = ids.length - span; i < ids.length - p && periodic; i++) periodic = ids[i] === ids[i + p];
    if (periodic) return p;
  }
  return 0;
}

export function endsInCycle(ids: readonly number[], maxPeriod = 16, minRepeats = 3): boolean {
  return trailingCyclePeriod(ids, maxPeriod, minRepeats) > 0;
}

/** Share of generations that end in a loop. */
export function loopShare(generations: readonly (readonly number[])[], maxPeriod = 16, minRepeats = 3): number {
  if (!generations.length) return 0;
  return generations.filter((g) => endsInCycle(g, maxPeriod, minRepeats)).length / generations.length;
}
