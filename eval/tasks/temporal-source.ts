import {
  listCommits,
  openRepository,
  splitCommits,
  temporalItems,
  walkChanges,
  DEFAULT_SPLIT,
  type SplitSpec,
} from '../../history/index.js';
import type { TemporalSource } from './build.js';
import { SOURCE_EXTENSIONS } from './languages.js';

export interface TemporalHistory {
  sources: TemporalSource[];
  /** The newest commit before the cutoff (what an adapter may have trained on), null if none. */
  cutoffSha: string | null;
  heldoutCommits: number;
}

/** The files that held-out commits (those after the split) changed, with the lines they added. */
export async function readTemporalSources(
  dir: string,
  split: SplitSpec = DEFAULT_SPLIT,
  onCommit?: (done: number, total: number) => void,
): Promise<TemporalHistory> {
  const repo = await openRepository(dir);
  try {
    const { heldout, cutoffSha } = splitCommits(await listCommits(repo), split);
    const sources: TemporalSource[] = [];
    let done = 0;
    for await (const changes of walkChanges(repo, heldout, { codeExtensions: [...SOURCE_EXTENSIONS] })) {
      for (const item of temporalItems(changes)) {
        sources.push({ sha: item.sha, path: item.path, after: item.after, addedLines: item.addedLines });
      }
      onCommit?.(++done, heldout.length);
    }
    return { sources, cutoffSha, heldoutCommits: heldout.length };
  } finally {
    repo.close();
  }
}
