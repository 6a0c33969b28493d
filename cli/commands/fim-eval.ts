import { modelDirFor } from '../../engine/index.js';
import { UserError, writeTextAtomic } from '../../common/index.js';
import {
  DEFAULT_LIMIT,
  DEFAULT_RESAMPLES,
  DEFAULT_TASK_SETS,
  evaluateCommitDiff,
  evaluateFolder,
  formatCommitDiffTable,
  formatTable,
  parseTaskSets,
  renderHtmlReport,
  takeCommitDiffSet,
  TASK_SETS,
  type FolderProgress,
} from '../../eval/index.js';
import { ProgressBar } from '../progress-bar.js';
import { parseCutoff, parseHoldout, type SplitSpec } from '../../history/index.js';
import { checkFlags, flagInt, flagString, parseArgs, QUANT_USAGE, quantFlag, type Args } from '../args.js';
import type { Command } from '../command.js';
import { generationFlags, generationOptions } from './generation-flags.js';
import { backendFlags, remoteColumnsFromFlags, userErrors } from '../backend-flags.js';

const PHASE_LABEL: Record<FolderProgress['phase'], string> = {
  history: 'history',
  base: 'base   ',
  adapter: 'adapter',
  cosine: 'cosine ',
};
const PHASE_UNIT: Record<FolderProgress['phase'], string> = { history: 'commits', base: 'tasks', adapter: 'tasks', cosine: 'texts' };

function splitSpec(args: Args): SplitSpec | undefined {
  const cutoff = flagString(args, 'cutoff');
  const holdout = flagString(args, 'holdout');
  if (cutoff && holdout) throw new UserError('give --cutoff or --holdout, not both');
  if (cutoff) return { cutoff: parseCutoff(cutoff) };
  if (holdout) return { holdoutPercent: parseHoldout(holdout) };
  return undefined;
}

function positive(args: Args, name: string, fallback: number, min: number): number {
  const v = flagInt(args, name, fallback);
  if (v < min) throw new UserError(`--${name} must be at least ${min}, got ${v}`);
  return v;
}

/** One bar, restarted per phase; its unit follows the phase. */
function progressReporter(): { onProgress: (p: FolderProgress) => void; finish: (s: string) => void } {
  const bars = new Map<string, ProgressBar>();
  let current: { phase: string; bar: ProgressBar } | undefined;
  return {
    onProgress(p) {
      if (current?.phase !== p.phase) {
        if (current) current.bar.finish();
        let bar = bars.get(p.phase);
        if (!bar) bars.set(p.phase, (bar = new ProgressBar({ unit: PHASE_UNIT[p.phase] })));
        current = { phase: p.phase, bar };
        bar.start(PHASE_LABEL[p.phase], p.total);
      }
      current.bar.update(p.done);
    },
    finish(summary) {
      if (current) current.bar.finish(summary);
      else process.stderr.write(`${summary}\n`);
    },
  };
}

export const command: Command = {
  name: 'fim-eval',
  summary: 'score fill-in-the-middle on a folder or repository, base model against adapter',
  usage: `usage: codefudge fim-eval <dir|repo> [--model DIR] [--adapter DIR] [options]

Makes fill-in-the-middle tasks from the folder's Python, TypeScript and JavaScript files
(a git repository's working files), generates each middle and scores it.
  --tasks LIST        task sets, comma-separated (default: ${DEFAULT_TASK_SETS.join(',')},
                      and temporal for a git repository); known: ${TASK_SETS.join(', ')}, commit-diff
                      (commit-diff: the diff suggested for each file a held-out commit modified,
                      from its message: share that applies, chrF, exact hunks; --beams default 4)
  --limit N           most tasks per set, 0 for all (${DEFAULT_LIMIT})
  --seed N            seeds task choice, sampling and the bootstrap (0)
  --max-tokens N      token budget of every middle (default by stop rule: line 48, block 128, span 64)
  --cutoff DATE | --holdout P   temporal: held-out commits are those from DATE on, or the newest P% (10%)
  --resamples N       bootstrap resamples for the adapter's 95% intervals (${DEFAULT_RESAMPLES})
  --threads N         inference threads
${QUANT_USAGE}
  --json              print the full report (every task and the aggregates) as JSON on stdout
                      instead of the table; --json=FILE writes it to FILE
  --html FILE         write a self-contained HTML report with charts and examples
${generationFlags.help
  .split('\n')
  .filter((l) => !l.includes('--seed'))
  .join('\n')}
${backendFlags.help}
                      (fim-eval: the adapter column is --backend-adapter's; --model still judges cosine)

Stop rules: single-line middles end at a newline; multi-line ones at a blank line or a line
indented less than their first; random spans only at the model's end-of-middle token.`,
  async run(argv) {
    const args = parseArgs(argv, ['json']);
    checkFlags(args, [
      'model',
      'adapter',
      'tasks',
      'limit',
      'max-tokens',
      'cutoff',
      'holdout',
      'resamples',
      'threads',
      'json',
      'html',
      'quant',
      ...generationFlags.names,
      ...backendFlags.names,
    ]);
    if (args.positionals.length !== 1) throw new UserError('fim-eval takes exactly one folder (see codefudge fim-eval --help)');
    const json = flagString(args, 'json');
    const html = flagString(args, 'html');
    const { fimSets, commitDiff } = takeCommitDiffSet(flagString(args, 'tasks'));
    const sets = fimSets !== undefined ? parseTaskSets(fimSets) : undefined;
    if (commitDiff && !fimSets && html) throw new UserError('--html reports the fill-in-the-middle task sets; commit-diff alone has none');
    const maxTokens = args.flags.has('max-tokens') ? positive(args, 'max-tokens', 0, 1) : undefined;
    const limit = positive(args, 'limit', DEFAULT_LIMIT, 0);
    const resamples = positive(args, 'resamples', DEFAULT_RESAMPLES, 1);
    const { seed, ...decoding } = generationOptions(args);
    const split = splitSpec(args);
    const threads = args.flags.has('threads') ? positive(args, 'threads', 1, 1) : undefined;
    const quant = quantFlag(args);
    const completers = remoteColumnsFromFlags(args);
    if (completers && args.flags.has('adapter'))
      throw new UserError("--adapter loads an adapter here; with --backend name the server's adapter with --backend-adapter");
    if (completers && commitDiff)
      throw new UserError('commit-diff tasks run beam search in this process; leave out --backend, or the commit-diff set');
    const modelDir = await modelDirFor(flagString(args, 'model'));
    const progress = progressReporter();
    const report =
      commitDiff && !fimSets
        ? undefined
        : await userErrors(() =>
            evaluateFolder({
              dir: args.positionals[0],
              modelDir,
              completers,
              adapterDir: flagString(args, 'adapter'),
              sets,
              limit,
              seed,
              decoding: { ...decoding, ...(maxTokens ? { maxNewTokens: maxTokens } : {}) },
              bootstrap: { resamples },
              split,
              threads,
              quant,
              onProgress: progress.onProgress,
              onNote: (note) => process.stderr.write(`codefudge: note: ${note}\n`),
            }),
          );
    const diffReport = commitDiff
      ? await evaluateCommitDiff({
          dir: args.positionals[0],
          modelDir,
          adapterDir: flagString(args, 'adapter'),
          limit,
          seed: seed ?? 0,
          split,
          resamples,
          threads,
          quant,
          beams: args.flags.has('beams') ? decoding.numBeams : undefined,
          maxNewTokens: maxTokens,
          onProgress: progress.onProgress,
        })
      : undefined;
    const tasks = (report?.tasks.length ?? 0) + (diffReport?.tasks.length ?? 0);
    progress.finish(`fim-eval: ${tasks} tasks in ${Math.round(((report?.seconds ?? 0) + (diffReport?.seconds ?? 0)) * 10) / 10} s`);
    const full = report && diffReport ? { ...report, commitDiff: diffReport } : (report ?? diffReport);
    const jsonText = `${JSON.stringify(full, null, 2)}\n`;
    if (html && report) writeTextAtomic(html, renderHtmlReport(report));
    if (json && json !== 'true') writeTextAtomic(json, jsonText);
    const tables = [report && formatTable(report), diffReport && formatCommitDiffTable(diffReport)].filter(Boolean);
    process.stdout.write(json === 'true' ? jsonText : tables.join('\n'));
  },
};
