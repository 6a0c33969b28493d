// The source files of a folder: a git work tree's tracked and untracked-but-not-ignored files,
// or every file under a plain folder; vendored, generated and lock files left out as history does.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { UserError } from '../../common/index.js';
import { DEFAULT_MAX_FILE_BYTES, FileFilter } from '../../history/index.js';
import { SOURCE_EXTENSIONS, languageOf } from './languages.js';
import type { SourceFile } from './task.js';

export interface SourceTree {
  root: string;
  /** The folder is inside a git work tree (so it has history for temporal tasks). */
  git: boolean;
  /** The top folder of the repository ('' outside git). */
  repoRoot: string;
  /** Where the folder is in its repository ('' at the top, else ending in '/'); '' outside git. */
  repoPrefix: string;
  files: SourceFile[];
}

function gitFiles(dir: string): { paths: string[]; root: string; prefix: string } | undefined {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 * 1024 * 1024 });
  try {
    if (git('rev-parse', '--is-inside-work-tree').trim() !== 'true') return undefined;
    const root = git('rev-parse', '--show-toplevel').replace(/\n$/, '');
    const prefix = git('rev-parse', '--show-prefix').replace(/\n$/, '');
    return { paths: git('ls-files', '-z', '--cached', '--others', '--exclude-standard').split('\0').filter(Boolean), root, prefix };
  } catch {
    return undefined;
  }
}

function walk(dir: string, root: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) walk(p, root, out);
    else if (entry.isFile()) out.push(relative(root, p).split(sep).join('/'));
  }
}

export function readSourceTree(dir: string): SourceTree {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new UserError(`no such directory: ${dir}`);
  }
  if (!isDir) throw new UserError(`not a directory: ${dir}`);
  const tracked = gitFiles(dir);
  const paths = tracked?.paths ?? [];
  if (!tracked) walk(dir, dir, paths);
  const filter = new FileFilter({ codeExtensions: [...SOURCE_EXTENSIONS] });
  const noAttributes = new Map();
  const files: SourceFile[] = [];
  for (const path of paths.sort()) {
    const language = languageOf(path);
    if (!language || filter.byPath(path, noAttributes)) continue;
    const full = join(dir, path);
    if (!existsSync(full)) continue; // tracked but deleted in the work tree
    const st = statSync(full);
    if (!st.isFile() || st.size > DEFAULT_MAX_FILE_BYTES) continue;
    const text = readFileSync(full, 'utf8');
    if (text.includes('\0')) continue;
    files.push({ path, text, language });
  }
  return { root: dir, git: tracked !== undefined, repoRoot: tracked?.root ?? '', repoPrefix: tracked?.prefix ?? '', files };
}
