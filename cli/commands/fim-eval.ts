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
import { splitOptions } from '../history-flags.js';
import { flagInt, parseFlags, QUANT_USAGE, quantFlag, quantOption, type FlagValues, type OptionTable, type StringFlag } from '../flags.js';
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

const OPTIONS = {
  model: { type: 'string' },
  adapter: { type: 'string' },
  tasks: { type: 'string' },
  limit: { type: 'string' },
  'max-tokens': { type: 'string' },
  ...splitOptions,
  resamples: { type: 'string' },
  threads: { type: 'string' },
  json: { type: 'string' }, // a bare --json too: see bareJsonAsEmpty
  html: { type: 'string' },
  ...quantOption,
  ...generationFlags.options,
  ...backendFlags.options,
} satisfies OptionTable;

type Values = FlagValues<typeof OPTIONS>;

/** --json alone prints the report on stdout, --json=FILE writes it to FILE: a bare --json (before any --) reads as --json=. */
function bareJsonAsEmpty(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return argv.map((a, i) => (a === '--json' && (end < 0 || i < end) ? '--json=' : a));
}

function splitSpec({ cutoff, holdout }: Values): SplitSpec | undefined {
  if (cutoff && holdout) throw new UserError('give --cutoff or --holdout, not both');
  if (cutoff) return { cutoff: parseCutoff(cutoff) };
  if (holdout) return { holdoutPercent: parseHoldout(holdout) };
  return undefined;
}

function positive(values: Values, name: StringFlag<Values>, fallback: number, min: number): number {
  const v = flagInt(values, name, fallback);
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
  options: OPTIONS,
  async run(argv) {
    const { values, positionals } = parseFlags(bareJsonAsEmpty(argv), OPTIONS);
    if (positionals.length !== 1) throw new UserError('fim-eval takes exactly one folder (see codefudge fim-eval --help)');
    const { json, html } = values;
    const { fimSets, commitDiff } = takeCommitDiffSet(values.tasks);
    const sets = fimSets !== undefined ? parseTaskSets(fimSets) : undefined;
    if (commitDiff && !fimSets && html) throw new UserError('--html reports the fill-in-the-middle task sets; commit-diff alone has none');
    const maxTokens = values['max-tokens'] !== undefined ? positive(values, 'max-tokens', 0, 1) : undefined;
    const limit = positive(values, 'limit', DEFAULT_LIMIT, 0);
    const resamples = positive(values, 'resamples', DEFAULT_RESAMPLES, 1);
    const { seed, ...decoding } = generationOptions(values);
    const split = splitSpec(values);
    const threads = values.threads !== undefined ? positive(values, 'threads', 1, 1) : undefined;
    const quant = quantFlag(values);
    const completers = remoteColumnsFromFlags(values);
    if (completers && values.adapter !== undefined)
      throw new UserError("--adapter loads an adapter here; with --backend name the server's adapter with --backend-adapter");
    if (completers && commitDiff)
      throw new UserError('commit-diff tasks run beam search in this process; leave out --backend, or the commit-diff set');
    const modelDir = await modelDirFor(values.model);
    const progress = progressReporter();
    const report =
      commitDiff && !fimSets
        ? undefined
        : await userErrors(() =>
            evaluateFolder({
              dir: positionals[0],
              modelDir,
              completers,
              adapterDir: values.adapter,
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
          dir: positionals[0],
          modelDir,
          adapterDir: values.adapter,
          limit,
          seed: seed ?? 0,
          split,
          resamples,
          threads,
          quant,
          beams: values.beams !== undefined ? decoding.numBeams : undefined,
          maxNewTokens: maxTokens,
          onProgress: progress.onProgress,
        })
      : undefined;
    const tasks = (report?.tasks.length ?? 0) + (diffReport?.tasks.length ?? 0);
    progress.finish(`fim-eval: ${tasks} tasks in ${Math.round(((report?.seconds ?? 0) + (diffReport?.seconds ?? 0)) * 10) / 10} s`);
    const full = report && diffReport ? { ...report, commitDiff: diffReport } : (report ?? diffReport);
    const jsonText = `${JSON.stringify(full, null, 2)}\n`;
    if (html && report) writeTextAtomic(html, renderHtmlReport(report));
    if (json) writeTextAtomic(json, jsonText);
    const tables = [report && formatTable(report), diffReport && formatCommitDiffTable(diffReport)].filter(Boolean);
    process.stdout.write(json === '' ? jsonText : tables.join('\n'));
  },
};
