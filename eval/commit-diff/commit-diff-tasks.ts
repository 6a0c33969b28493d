// The commit-diff task set: files that held-out commits (those after the split) modified, each
// with the commit's message, the file before it, and the file's real diff.
import {
  listCommits,
  openRepository,
  splitCommits,
  temporalItems,
  walkChanges,
  DEFAULT_SPLIT,
  type SplitSpec,
} from '../../history/index.js';
import { seededRng } from '../tasks/build.js';

export const COMMIT_DIFF_SET = 'commit-diff';

export interface CommitDiffTask {
  /** `commit-diff:<path>:<sha12>`. */
  id: string;
  sha: string;
  message: string;
  path: string;
  before: string;
  /** The file's diff in the commit, from its `---` line (paths a/ and b/). */
  diff: string;
}

export interface CommitDiffTasks {
  tasks: CommitDiffTask[];
  /** Modified files the held-out commits offered before the limit. */
  candidates: number;
  cutoffSha: string | null;
  heldoutCommits: number;
}

export interface CommitDiffTaskOptions {
  split?: SplitSpec;
  /** Most tasks (a seeded sample); 0 or absent for all. */
  limit?: number;
  seed?: number;
  onCommit?: (done: number, total: number) => void;
}

/** Held-out modifications of existing code files (additions, with no file to suggest a diff for, are left out). */
export async function readCommitDiffTasks(dir: string, opts: CommitDiffTaskOptions = {}): Promise<CommitDiffTasks> {
  const repo = await openRepository(dir);
  try {
    const { heldout, cutoffSha } = splitCommits(await listCommits(repo), opts.split ?? DEFAULT_SPLIT);
    const all: CommitDiffTask[] = [];
    let done = 0;
    for await (const changes of walkChanges(repo, heldout)) {
      for (const item of temporalItems(changes)) {
        if (item.status !== 'M' || item.before === '') continue;
        const { sha, message, path, before, diff } = item;
        all.push({ id: `${COMMIT_DIFF_SET}:${path}:${sha.slice(0, 12)}`, sha, message, path, before, diff });
      }
      opts.onCommit?.(++done, heldout.length);
    }
    const order = all.map((_, i) => i);
    const rng = seededRng(opts.seed ?? 0, COMMIT_DIFF_SET);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : order.length;
    const tasks = order
      .slice(0, limit)
      .sort((a, b) => a - b)
      .map((i) => all[i]);
    return { tasks, candidates: all.length, cutoffSha, heldoutCommits: heldout.length };
  } finally {
    repo.close();
  }
}
