import { relative } from 'node:path';
import { UserError } from '../../common/index.js';
import { exportHistory, type HistoryProgress, type HistoryStats } from '../../history/index.js';
import { flagChoice, flagInt, parseFlags, type OptionTable } from '../flags.js';
import type { Command } from '../command.js';
import { pathFilterOptions, splitOptions, splitSpec } from '../history-flags.js';

const EXPORT = {
  out: { type: 'string' },
  ...splitOptions,
  seed: { type: 'string' },
  ...pathFilterOptions,
  'max-file-bytes': { type: 'string' },
  'all-parents': { type: 'boolean' },
  context: { type: 'string' },
  'fim-revisions': { type: 'string' },
  rev: { type: 'string' },
  since: { type: 'string' },
  quiet: { type: 'boolean' },
} satisfies OptionTable;

/** A progress line on stderr: redrawn in place on a terminal, every few seconds otherwise. */
function progressReporter(quiet: boolean): { update(p: HistoryProgress): void; end(): void } {
  const tty = process.stderr.isTTY === true;
  let last = Date.now();
  let drawn = false;
  return {
    update(p) {
      if (quiet) return;
      const now = Date.now();
      if (now - last < (tty ? 100 : 5000)) return;
      last = now;
      const line = p.phase === 'snapshot' ? 'reading the training snapshot' : `commits ${p.done}/${p.total}`;
      if (tty) {
        process.stderr.write(`\r\x1b[K${line}`);
        drawn = true;
      } else process.stderr.write(line + '\n');
    },
    end() {
      if (drawn) process.stderr.write('\r\x1b[K');
    },
  };
}

function summary(stats: HistoryStats, trainPath: string, heldoutPath: string): string {
  const skipped = Object.values(stats.filesSkipped).reduce((a, b) => a + (b ?? 0), 0);
  const cutoff = stats.cutoffSha ? ` through ${stats.cutoffSha.slice(0, 7)} ${stats.cutoffDate}` : '';
  const show = (p: string) => relative(process.cwd(), p) || p;
  return (
    `${stats.commits} commits (${stats.trainCommits} train${cutoff}, ${stats.heldoutCommits} held out), ` +
    `${stats.filesChanged} code file changes, ${skipped} files skipped` +
    (stats.unreadableBlobs ? ` (${stats.unreadableBlobs} blobs unreadable, skipped; nothing was fetched)` : '') +
    (stats.unreadableCommits ? ` (${stats.unreadableCommits} commits unreadable, skipped)` : '') +
    '; ' +
    `${stats.examples.fim} fim + ${stats.examples.commitDiff} commit-diff examples -> ${show(trainPath)}; ` +
    `${stats.examples.temporal} held-out changes -> ${show(heldoutPath)}`
  );
}

async function exportCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, EXPORT);
  if (positionals.length !== 1) throw new UserError('history export takes exactly one repository path');
  const out = values.out;
  if (!out) throw new UserError('history export needs --out FILE.jsonl');
  const fimRevisions = flagChoice(values, 'fim-revisions', ['cutoff', 'each'], 'cutoff');
  const maxFileBytes = flagInt(values, 'max-file-bytes', 1_000_000);
  if (maxFileBytes < 1) throw new UserError('--max-file-bytes must be at least 1');
  const diffContext = flagInt(values, 'context', 3);
  if (diffContext < 0) throw new UserError('--context must be 0 or more');
  const progress = progressReporter(values.quiet ?? false);
  try {
    const result = await exportHistory(positionals[0], out, {
      split: splitSpec(values.cutoff, values.holdout),
      seed: flagInt(values, 'seed', 0),
      include: values.include ?? [],
      exclude: values.exclude ?? [],
      maxFileBytes,
      diffContext,
      allParents: values['all-parents'] ?? false,
      fimRevisions,
      rev: values.rev,
      since: values.since,
      onProgress: (p) => progress.update(p),
    });
    progress.end();
    process.stdout.write(summary(result.stats, result.trainPath, result.heldoutPath) + '\n');
  } catch (e) {
    progress.end();
    throw e;
  }
}

export const command: Command = {
  name: 'history',
  usage: `usage: codefudge history export <repo> --out data.jsonl [options]
  Writes training examples (FIM and commit->diff) to data.jsonl and held-out items (lines
  added by held-out commits, with the commit->diff fields) to data.heldout.jsonl: JSON lines
  that Hugging Face datasets loads (load_dataset("json", data_files=...)).
  --cutoff DATE        commits from this date (2024-01-01, committer date) on are held out
  --holdout P%         or hold out the newest P% of commits (10%)
  --seed N             FIM span sampling seed (0)
  --include GLOB       only files matching (repeatable; replaces the code-extension list)
  --exclude GLOB       leave files out (repeatable)
  --max-file-bytes N   skip files larger than this (1000000)
  --context N          diff context lines (3)
  --all-parents        walk every commit, not only the first-parent chain
  --fim-revisions cutoff|each   FIM from the cutoff snapshot only, or also every training file version (cutoff)
  --rev REV            read the history of REV instead of HEAD
  --since COMMIT       only what is new after COMMIT (refreshing an adapter trained through it)
  --quiet              no progress on stderr`,
  options: EXPORT,
  async run(argv) {
    const [what, ...rest] = argv;
    if (what === 'export') return exportCommand(rest);
    throw new UserError(`history: unknown subcommand "${what ?? ''}" (export)`);
  },
};
