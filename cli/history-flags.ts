// Flags shared by the commands that read a repository's history (history export, adapt).
import { UserError } from '../common/index.js';
import { parseCutoff, parseHoldout, type SplitSpec } from '../history/index.js';

/** Pulls repeatable flags (--include, --exclude) out of argv; parseArgs keeps only a flag's last value. */
export function takeRepeated(argv: string[], names: readonly string[]): { rest: string[]; values: Map<string, string[]> } {
  const values = new Map<string, string[]>(names.map((n) => [n, []]));
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(a);
    if (!m || !values.has(m[1])) {
      rest.push(a);
      continue;
    }
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new UserError(`--${m[1]} needs a value`);
    values.get(m[1])!.push(v);
  }
  return { rest, values };
}

/** --cutoff DATE or --holdout P% (default: the newest 10% held out). */
export function splitSpec(cutoff: string | undefined, holdout: string | undefined): SplitSpec {
  if (cutoff !== undefined && holdout !== undefined) throw new UserError('give --cutoff or --holdout, not both');
  if (cutoff !== undefined) return { cutoff: parseCutoff(cutoff) };
  return { holdoutPercent: holdout === undefined ? 10 : parseHoldout(holdout) };
}
