import { levenshtein } from './levenshtein.js';
import { codePointValues } from './text.js';

/**
 * RepoEval's edit similarity: 1 − Levenshtein(hyp, ref) / max(|hyp|, |ref|), over code points
 * (whitespace included, nothing normalised). Both empty gives 1.
 */
export function editSimilarity(hyp: string, ref: string): number {
  const a = codePointValues(hyp);
  const b = codePointValues(ref);
  const longer = Math.max(a.length, b.length);
  return longer === 0 ? 1 : 1 - levenshtein(a, b) / longer;
}
