// A real git repository in a temp dir, built by scripting git with fixed dates, for the history tests.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  return { ...env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
}

export class ScriptedRepo {
  readonly dir: string;
  /** Day of January 2024 the next commit gets unless told otherwise. */
  private day = 1;

  constructor(prefix = 'cf-history-') {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    this.git('init', '-q', '-b', 'main');
    this.git('config', 'user.name', 'Test Author');
    this.git('config', 'user.email', 'author@example.com');
    this.git('config', 'commit.gpgsign', 'false');
    this.git('config', 'core.autocrlf', 'false');
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, env: this.env(), encoding: 'utf8' });
  }

  write(path: string, content: string | Buffer): this {
    const abs = join(this.dir, path);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
    return this;
  }

  remove(path: string): this {
    unlinkSync(join(this.dir, path));
    return this;
  }

  /** Commits everything in the work tree (or nothing: empty commits are allowed); returns the sha. */
  commit(message: string, date = this.nextDate()): string {
    this.git('add', '-A');
    execFileSync('git', ['commit', '-q', '--allow-empty', '--no-verify', '-m', message], {
      cwd: this.dir,
      env: { ...this.env(), GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
    });
    return this.git('rev-parse', 'HEAD').trim();
  }

  /** `git merge --no-ff` of a branch, at a fixed date. */
  merge(branch: string, message: string, date = this.nextDate()): string {
    execFileSync('git', ['merge', '-q', '--no-ff', '--no-verify', '-m', message, branch], {
      cwd: this.dir,
      env: { ...this.env(), GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
    });
    return this.git('rev-parse', 'HEAD').trim();
  }

  /** Dates as git's internal format: seconds and a zone. */
  nextDate(): string {
    return ScriptedRepo.date(this.day++);
  }

  static date(day: number): string {
    return `${Date.UTC(2024, 0, day, 12) / 1000} +0000`;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private env(): NodeJS.ProcessEnv {
    return cleanEnv();
  }
}
