// GNU patch and git as references for the diff tests: each runs on real files in a temp folder.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `patch -p1 -F0` of `diff` onto a file `f` holding `text`: the new text, or null when it does not apply. */
export function gnuPatch(dir: string, text: string, diff: string): string | null {
  const work = mkdtempSync(join(dir, 'patch-'));
  writeFileSync(join(work, 'f'), text);
  writeFileSync(join(work, 'change.diff'), diff);
  const r = spawnSync('patch', ['-p1', '-F0', '-f', '-s', '--no-backup-if-mismatch', '-r', '-', '-i', 'change.diff'], {
    cwd: work,
    encoding: 'utf8',
  });
  const out = r.status === 0 ? readFileSync(join(work, 'f'), 'utf8') : null;
  rmSync(work, { recursive: true, force: true });
  return out;
}

/** `git diff -U<context>` of two versions of `f`, from its `---` line (paths a/f and b/f). */
export function gitDiff(dir: string, before: string, after: string, context = 3): string {
  const work = mkdtempSync(join(dir, 'diff-'));
  mkdirSync(join(work, 'a'));
  mkdirSync(join(work, 'b'));
  writeFileSync(join(work, 'a', 'f'), before);
  writeFileSync(join(work, 'b', 'f'), after);
  const r = spawnSync('git', ['diff', '--no-index', '--no-prefix', '--no-color', `-U${context}`, '--', 'a/f', 'b/f'], {
    cwd: work,
    encoding: 'utf8',
  });
  rmSync(work, { recursive: true, force: true });
  if (r.status !== 0 && r.status !== 1) throw new Error(`git diff failed: ${r.stderr}`);
  const at = r.stdout.indexOf('--- ');
  return at < 0 ? '' : r.stdout.slice(at);
}
