// `codefudge bench history REPO`: how fast codefudge reads a history (every first-parent commit's
// changed files, their contents before and after, and their diffs) beside `git log -p
// --first-parent --numstat` printing the same commits, measured one after the other on one machine.
import { spawn } from 'node:child_process';
import { FileFilter, listCommits, openRepository, walkChanges } from '../history/index.js';

export interface HistoryBenchResult {
  commits: number;
  /** Seconds for git log -p, and for our read (listing commits included). */
  gitSeconds: number;
  oursSeconds: number;
  /** ours / git: how many times slower than git log -p. */
  ratio: number;
  gitBytes: number;
  filesKept: number;
  filesSkipped: number;
  unreadableBlobs: number;
}

function gitLogSeconds(repo: string, limit: number | undefined): Promise<{ seconds: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const args = ['log', '-p', '--first-parent', '--numstat', '--no-color', ...(limit ? ['-n', String(limit)] : []), 'HEAD', '--'];
    const proc = spawn('git', args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let err = '';
    proc.stdout.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    proc.stderr.on('data', (c: Buffer) => {
      err += c.toString('utf8');
    });
    proc.on('error', reject);
    proc.on('close', (code) => {
      if (code !== 0) reject(new Error(`git log -p failed: ${err.trim().split('\n')[0]}`));
      else resolve({ seconds: (performance.now() - started) / 1000, bytes });
    });
  });
}

export async function benchHistory(
  repoPath: string,
  opts: { limit?: number; log?: (line: string) => void } = {},
): Promise<HistoryBenchResult> {
  const repo = await openRepository(repoPath);
  try {
    const git = await gitLogSeconds(repo.path, opts.limit);
    opts.log?.(`git log -p: ${git.seconds.toFixed(2)} s, ${(git.bytes / 1e6).toFixed(1)} MB`);
    const started = performance.now();
    let commits = await listCommits(repo);
    if (opts.limit) commits = commits.slice(-opts.limit);
    const filter = new FileFilter();
    let filesKept = 0;
    let filesSkipped = 0;
    let done = 0;
    for await (const changes of walkChanges(repo, commits, {}, filter)) {
      filesKept += changes.files.length;
      filesSkipped += changes.skipped.length;
      if (++done % 1000 === 0) opts.log?.(`codefudge: ${done}/${commits.length} commits`);
    }
    const oursSeconds = (performance.now() - started) / 1000;
    return {
      commits: commits.length,
      gitSeconds: git.seconds,
      oursSeconds,
      ratio: oursSeconds / git.seconds,
      gitBytes: git.bytes,
      filesKept,
      filesSkipped,
      unreadableBlobs: repo.cat.unreadable.size,
    };
  } finally {
    repo.close();
  }
}
