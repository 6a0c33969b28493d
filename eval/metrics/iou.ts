import { splitWhitespace } from './text.js';

/**
 * Jaccard index |A ∩ B| / |A ∪ B| of the SETS of whitespace-separated tokens of hyp and ref
 * (repeats count once; tokens compare exactly). Both without tokens gives 1.
 */
export function tokenIou(hyp: string, ref: string): number {
  const a = new Set(splitWhitespace(hyp));
  const b = new Set(splitWhitespace(ref));
  if (a.size === 0 && b.size === 0) return 1;
  let common = 0;
  for (const t of a) if (b.has(t)) common++;
  return common / (a.size + b.size - common);
}
