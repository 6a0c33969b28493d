// The file a diff is suggested for: inside a git repository, present, text. Every refusal is a
// one-line UserError naming the bad thing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../common/index.js';
import { looksBinary, openRepository } from '../history/index.js';

export interface RepoFile {
  /** The repository's top folder (real path). */
  root: string;
  /** The file's real path. */
  abs: string;
  /** Relative to `root`, with '/' separators: what the diff's a/ and b/ paths and the prompt use. */
  path: string;
  text: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The top folder of the git repository `dir` is in (UserError when it is not in one, or has no commit). */
export async function repositoryRoot(dir: string): Promise<string> {
  const repo = await openRepository(dir);
  try {
    return fs.realpathSync((await repo.git.text(['rev-parse', '--show-toplevel'])).trim());
  } finally {
    repo.close();
  }
}

/** The real path of `p`, or of its folder joined with its name when `p` does not exist (undefined when neither does). */
function realPath(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    try {
      return path.join(fs.realpathSync(path.dirname(p)), path.basename(p));
    } catch {
      return undefined;
    }
  }
}

/** Reads a text file of the repository; `file` is absolute or relative to `repoDir`. */
export async function readRepoFile(repoDir: string, file: string): Promise<RepoFile> {
  const root = await repositoryRoot(repoDir);
  const abs = realPath(path.resolve(fs.realpathSync(repoDir), file));
  const rel = abs === undefined ? undefined : path.relative(root, abs);
  if (rel !== undefined && (rel === '' || rel.startsWith('..') || path.isAbsolute(rel))) {
    throw new UserError(`${file} is outside the repository ${root}`);
  }
  if (abs === undefined || rel === undefined || !fs.existsSync(abs)) throw new UserError(`no such file: ${file}`);
  return { root, abs, path: rel.split(path.sep).join('/'), text: readTextFile(abs, file) };
}

/** A regular file's text; UserErrors (naming it `shown`) for a missing file, a folder, a binary file, or bytes that are not UTF-8. */
export function readTextFile(abs: string, shown: string): string {
  if (!fs.existsSync(abs)) throw new UserError(`no such file: ${shown}`);
  if (!fs.statSync(abs).isFile()) throw new UserError(`${shown} is not a regular file`);
  const bytes = fs.readFileSync(abs);
  if (looksBinary(bytes)) throw new UserError(`${shown} is a binary file`);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new UserError(`${shown} is not UTF-8 text`);
  }
}

/** A commit message that says something, trimmed (UserError for an empty one). */
export function checkMessage(message: string | undefined): string {
  const m = (message ?? '').trim();
  if (!m) throw new UserError('the commit message is empty: pass --message "what the change does"');
  return m;
}
