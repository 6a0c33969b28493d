import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';

/**
 * Every git process we start reads a repository we do not trust, so it runs plumbing only,
 * with hooks, fsmonitor and the system config switched off and no ambient GIT_* variable
 * (GIT_DIR, GIT_INDEX_FILE, ... from a calling hook would otherwise redirect us).
 *
 * Attributes are ours to read (history/attributes.ts, at each revision, matched in linear time):
 * git gets none. `attr.tree=` names no tree, which git (>= 2.42) takes as an empty one; without it
 * git 2.43-2.45 read a bare repository's HEAD:.gitattributes by default, and any git from 2.42 on
 * does so when the repository's config sets attr.tree (older gits ignore the key). That file is
 * the committer's, and HEAD's, applied to every older commit's diff. GIT_ATTR_SOURCE, which would
 * win over attr.tree, is dropped with the other GIT_* variables.
 */
const SAFE_CONFIG = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'core.quotePath=false',
  'core.attributesFile=/dev/null',
  'attr.tree=',
];

const SAFE_ENV_VARS: Record<string, string> = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
  // Replace refs would show a history other than the one that was committed.
  GIT_NO_REPLACE_OBJECTS: '1',
  // A partial clone would otherwise fetch missing blobs over the network: git >= 2.44 obeys the
  // first, older git fails the fetch because no transport is allowed.
  GIT_NO_LAZY_FETCH: '1',
  GIT_ALLOW_PROTOCOL: 'codefudge-never-fetches',
  GIT_ATTR_NOSYSTEM: '1',
};

/**
 * Variables naming programs git could run (an editor, a pager, a password prompt) or where it looks
 * for its own files (PREFIX): plumbing never needs them, and simple-git refuses to start with them
 * set (npm sets EDITOR for its scripts; Termux and many Makefiles export PREFIX).
 */
const PROGRAM_VARS = /^(GIT_.*|EDITOR|VISUAL|PAGER|PREFIX|.*ASKPASS)$/;

function safeEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !PROGRAM_VARS.test(k.toUpperCase())) env[k] = v;
  }
  return { ...env, ...SAFE_ENV_VARS };
}

/** A git command failed; `stderr` holds git's own words. */
export class GitCommandError extends Error {
  override name = 'GitCommandError';
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    readonly code: number | null,
  ) {
    super(`git ${args.slice(0, 3).join(' ')} failed${code === null ? '' : ` (exit ${code})`}: ${firstLine(stderr)}`);
  }
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}

/** A git command did not finish in time; git's own attribute matcher can be exponential on hostile patterns. */
export class GitTimeoutError extends GitCommandError {
  override name = 'GitTimeoutError';
  constructor(
    args: readonly string[],
    readonly seconds: number,
  ) {
    super(args, `no answer in ${seconds} s`, null);
  }
}

/**
 * Runs git in one directory: text output through simple-git, byte-exact output and long-lived
 * processes through spawn. Spawned processes can be isolated from the repository's committed
 * `.gitattributes` ({@link isolate}; `attr.tree=` keeps them out of a bare repository's trees):
 * git before 2.41 matches attribute patterns with exponential backtracking, and a diff consults
 * them for every path. The diffs, the only git commands that consult attributes, also run under a
 * timeout that ends in one line.
 */
export class GitRunner {
  private readonly sg: SimpleGit;
  private env = safeEnv();
  private cwd: string;
  private scratch: string | null = null;

  constructor(readonly dir: string) {
    this.cwd = dir;
    this.sg = simpleGit({
      baseDir: dir,
      config: SAFE_CONFIG,
      // simple-git refuses these keys unless told; we set them to their safe values.
      unsafe: { allowUnsafeHooksPath: true, allowUnsafeFsMonitor: true },
      allowEnvironment: Object.keys(SAFE_ENV_VARS),
      maxConcurrentProcesses: 2,
    }).env(this.env);
  }

  /** Text output (UTF-8) of a git command. */
  async text(args: string[]): Promise<string> {
    try {
      return await this.sg.raw(args);
    } catch (e) {
      throw new GitCommandError(args, e instanceof Error ? e.message : String(e), null);
    }
  }

  /**
   * Raw bytes of a git command's output; for content whose encoding we decide ourselves. With
   * `timeoutMs`, a command still running then is killed and rejects with a {@link GitTimeoutError}.
   */
  bytes(args: string[], opts: { timeoutMs?: number } = {}): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const proc = this.spawn(args);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer =
        opts.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              proc.kill('SIGKILL');
            }, opts.timeoutMs);
      proc.stdout.on('data', (c: Buffer) => out.push(c));
      proc.stderr.on('data', (c: Buffer) => err.push(c));
      proc.on('error', (e) => {
        clearTimeout(timer);
        reject(new GitCommandError(args, e.message, null));
      });
      proc.on('close', (code) => {
        clearTimeout(timer);
        if (timedOut) reject(new GitTimeoutError(args, Math.round(opts.timeoutMs! / 1000)));
        else if (code === 0) resolve(Buffer.concat(out));
        else reject(new GitCommandError(args, Buffer.concat(err).toString('utf8'), code));
      });
      proc.stdin.on('error', () => {
        /* reported through 'close' */
      });
      proc.stdin.end();
    });
  }

  /**
   * From now on spawned processes read `gitDir` from an empty private directory with an index
   * that does not exist, so no `.gitattributes` of the work tree or the index is ever consulted
   * (only the repository's own, uncommitted `info/attributes`).
   */
  isolate(gitDir: string): void {
    if (this.scratch) return;
    this.scratch = mkdtempSync(join(tmpdir(), 'codefudge-git-'));
    this.cwd = this.scratch;
    this.env = { ...this.env, GIT_DIR: gitDir, GIT_INDEX_FILE: join(this.scratch, 'no-index') };
  }

  /** Removes the private directory of {@link isolate}. */
  close(): void {
    if (this.scratch) rmSync(this.scratch, { recursive: true, force: true });
    this.scratch = null;
  }

  /** Starts a git process with the safe configuration; the caller owns it. */
  spawn(args: string[], extraConfig: readonly string[] = []): ChildProcessWithoutNullStreams {
    const config = [...SAFE_CONFIG, ...extraConfig].flatMap((c) => ['-c', c]);
    return spawn('git', [...config, ...args], { cwd: this.cwd, env: this.env, stdio: 'pipe' });
  }
}
