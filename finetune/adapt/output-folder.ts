// The output folder of `adapt`: where it goes by default, kept out of git, and taken back when a
// run that created it wrote nothing there.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeTextAtomic } from '../../common/index.js';
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
