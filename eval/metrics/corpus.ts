/** Zips parallel hypothesis and reference lists, refusing lists of different lengths. */
export function checkedPairs(hyps: readonly string[], refs: readonly string[]): Array<[string, string]> {
  if (hyps.length !== refs.length) {
    throw new Error(`${hyps.length} hypotheses but ${refs.length} references`);
  }
  return hyps.map((h, i) => [h, refs[i]]);
}

/** Element-wise sum of equal-length statistic vectors (how corpus metrics pool pairs). */
export function sumStats(list: readonly (readonly number[])[]): number[] {
  if (list.length === 0) return [];
  const total = new Array<number>(list[0].length).fill(0);
  for (const stats of list) stats.forEach((v, i) => (total[i] += v));
  return total;
}
