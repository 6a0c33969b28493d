import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../common/index.js';
import { AttributeReader } from './attributes.js';
import { CatFile } from './cat-file.js';
import { DiffStream } from './diff-stream.js';
import { GitCommandError, GitRunner } from './git.js';

const EMPTY_TREE: Record<string, string> = {
  sha1: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
  sha256: '6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321',
};

/** An open repository: the git runner, one long-lived object reader, and attribute lookups. Call close() when done. */
export interface HistoryRepository {
  /** The directory it was opened from, absolute. */
  readonly path: string;
  readonly git: GitRunner;
  readonly cat: CatFile;
  readonly attributes: AttributeReader;
  /** The empty tree's id in this repository's hash, what a root commit is diffed against. */
  readonly emptyTree: string;
  /** The commit `rev` (default HEAD) names. */
  readonly head: string;
  /** Commits at a shallow clone's boundary: their parents are not there, so they count as roots. */
  readonly shallow: ReadonlySet<string>;
  /** A partial clone (`--filter`): blobs may be absent, and are never fetched. */
  readonly partialClone: boolean;
  /** The long-lived diff process for these settings. */
  diffStream(context: number, bigFileBytes: number, timeoutMs: number): DiffStream;
  close(): void;
}

/** A promisor remote (git 2.39 records `remote.<name>.promisor`; others `extensions.partialClone`). */
async function isPartialClone(git: GitRunner): Promise<boolean> {
  try {
    const out = (await git.bytes(['config', '--get-regexp', '^(remote\\..*\\.promisor|extensions\\.partialclone)$'])).toString('utf8');
    return out.split('\n').some((line) => {
      const [key, value = ''] = line.trim().split(/\s+/, 2);
      return key !== undefined && key !== '' && (key.toLowerCase().startsWith('extensions.') ? value !== '' : value === 'true');
    });
  } catch {
    return false; // no such key
  }
}

function gitWords(e: unknown): string {
  return e instanceof GitCommandError ? e.stderr : String(e);
}

/**
 * Opens a repository for reading; throws a UserError for a missing path, a folder that is not
 * in a git repository, a repository without commits, or an unknown `rev`.
 */
export async function openRepository(path: string, rev = 'HEAD'): Promise<HistoryRepository> {
  const abs = resolve(path);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    throw new UserError(`no such directory: ${path}`);
  }
  if (!isDir) throw new UserError(`not a directory: ${path}`);
  const git = new GitRunner(abs);
  // One rev-parse says whether this is a repository, where its git dir is, its hash, and the commit
  // `rev` names: each git process costs a fork of this one, and a model may already be loaded.
  // Exit 1 with nothing on stderr: the repository is there, `rev` is not (--verify --quiet).
  let answer: string[] = [];
  try {
    const args = ['rev-parse', '--absolute-git-dir', '--show-object-format', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`];
    answer = (await git.bytes(args)).toString('utf8').split('\n');
  } catch (e) {
    const revMissing = e instanceof GitCommandError && e.code === 1 && e.stderr.trim() === '';
    if (!revMissing && /dubious ownership/.test(gitWords(e))) {
      throw new UserError(`git refuses to read ${path}: it is owned by another user (see git config safe.directory)`);
    }
    if (!revMissing) throw new UserError(`not a git repository: ${path}`);
  }
  // git older than 2.25 knows only sha1, and its rev-parse echoes the option it does not know.
  const [gitDir = '', objectFormat = '', head = ''] = answer.map((line) => line.trim());
  if (!head) {
    if (rev === 'HEAD') throw new UserError(`repository has no commits: ${path}`);
    throw new UserError(`no commit "${rev}" in ${path}`);
  }
  const format = objectFormat === 'sha256' ? 'sha256' : 'sha1';
  const shallow = new Set<string>();
  try {
    for (const line of readFileSync(resolve(gitDir, 'shallow'), 'utf8').split('\n')) if (line.trim()) shallow.add(line.trim());
  } catch {
    // not shallow
  }
  git.isolate(gitDir);
  const absent = new Set<string>();
  const partialClone = await isPartialClone(git);
  if (partialClone) {
    // Asking git for an absent object makes it try the promisor remote (and die when it may not):
    // list what is absent once, without fetching, and never ask for it.
    let listing: Buffer;
    try {
      listing = await git.bytes(['rev-list', '--objects', '--missing=print', head, '--'], { timeoutMs: 600_000 });
    } catch (e) {
      throw new UserError(`cannot list the objects of the partial clone ${path}: ${gitWords(e).trim().split('\n')[0]}`);
    }
    for (const line of listing.toString('latin1').split('\n')) if (line.startsWith('?')) absent.add(line.slice(1).trim());
  }
  const cat = new CatFile(git, absent);
  const streams = new Map<string, DiffStream>();
  return {
    path: abs,
    git,
    cat,
    attributes: new AttributeReader(cat),
    emptyTree: EMPTY_TREE[format] ?? EMPTY_TREE.sha1,
    head,
    shallow,
    partialClone,
    diffStream(context, bigFileBytes, timeoutMs) {
      const key = `${context}:${bigFileBytes}`;
      let s = streams.get(key);
      if (!s) streams.set(key, (s = new DiffStream(git, { context, bigFileBytes, timeoutMs })));
      return s;
    },
    close: () => {
      cat.close();
      for (const s of streams.values()) s.close();
      git.close();
    },
  };
}
