// The output folder of `adapt`: where it goes by default, kept out of git, and taken back when a
// run that created it wrote nothing there.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeTextAtomic, UserError } from '../../common/index.js';
import { workspaceAdapterDir } from '../../engine/index.js';

/** Where an adapter of `repo` goes unless told otherwise. */
export function defaultAdapterDir(repo: string): string {
  return workspaceAdapterDir(repo);
}

/** The folders from `dir` up that do not exist yet, deepest first. */
export function missingFolders(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; !fs.existsSync(d) && path.dirname(d) !== d; d = path.dirname(d)) out.push(d);
  return out;
}

/**
 * Takes back what a run that wrote nothing created: the output folder when it is still empty,
 * then the folders above it that this run created (with the .gitignore written there).
 */
export function removeCreated(created: string[]): void {
  for (const dir of created) {
    if (dir !== created[0]) fs.rmSync(path.join(dir, '.gitignore'), { force: true });
    try {
      fs.rmdirSync(dir);
    } catch {
      return; // not empty: something of value is there
    }
  }
}

/** `.codefudge/.gitignore` so the adapter never shows up in `git status`. */
export function keepOutOfGit(dir: string): void {
  const file = path.join(dir, '.gitignore');
  if (!fs.existsSync(file)) writeTextAtomic(file, '*\n');
}

/**
 * Refuses an output folder inside the repository that is reached through a symbolic link: a
 * committed `.codefudge -> /elsewhere` would otherwise make a run write its adapter, lock and
 * .gitignore wherever the repository's author chose. Every existing component from the
 * repository down is checked with lstat (never followed).
 */
export function checkNoSymlinks(repoRoot: string, outDir: string): void {
  const rel = path.relative(repoRoot, outDir);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return;
  let at = repoRoot;
  for (const part of rel.split(path.sep)) {
    at = path.join(at, part);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(at);
    } catch {
      return; // the rest does not exist yet: it is created as real folders
    }
    if (st.isSymbolicLink()) {
      throw new UserError(
        `refusing to write the adapter through the symbolic link ${at} (it points to ${fs.readlinkSync(at)}); remove it or pass --out DIR outside the repository`,
      );
    }
    if (!st.isDirectory()) throw new UserError(`cannot write the adapter to ${outDir}: ${at} is not a folder`);
  }
}
