// Flags shared by the commands that read a repository's history (history export, adapt).
import { UserError } from '../common/index.js';
import { parseCutoff, parseHoldout, type SplitSpec } from '../history/index.js';
import type { OptionTable } from './flags.js';

/** --cutoff DATE | --holdout P%: where the held-out commits begin. */
export const splitOptions = { cutoff: { type: 'string' }, holdout: { type: 'string' } } satisfies OptionTable;

/** --include GLOB and --exclude GLOB, each repeatable. */
export const pathFilterOptions = {
  include: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
} satisfies OptionTable;

/** --cutoff DATE or --holdout P% (default: the newest 10% held out). */
export function splitSpec(cutoff: string | undefined, holdout: string | undefined): SplitSpec {
  if (cutoff !== undefined && holdout !== undefined) throw new UserError('give --cutoff or --holdout, not both');
  if (cutoff !== undefined) return { cutoff: parseCutoff(cutoff) };
  return { holdoutPercent: holdout === undefined ? 10 : parseHoldout(holdout) };
}
