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

  constructor(prefix = 'cf-history-', objectFormat: 'sha1' | 'sha256' = 'sha1') {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    this.script(
      `git init -q -b main --object-format=${objectFormat} && git config user.name "Test Author"` +
        ' && git config user.email author@example.com && git config commit.gpgsign false && git config core.autocrlf false',
    );
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
    return this.script('git add -A && git commit -q --allow-empty --no-verify -m "$1" && git rev-parse HEAD', [message], date).trim();
  }

  /** `git merge --no-ff` of a branch, at a fixed date. */
  merge(branch: string, message: string, date = this.nextDate()): string {
    return this.script('git merge -q --no-ff --no-verify -m "$1" "$2" && git rev-parse HEAD', [message, branch], date).trim();
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

  /**
   * Several git commands from one `sh`: node forks by copying its page tables, so each process it
   * spawns costs time in proportion to the test process's memory; sh's forks cost next to nothing.
   * `args` are the script's $1, $2, ...; `date` dates the commits it makes.
   */
  private script(commands: string, args: string[] = [], date?: string): string {
    const env = date ? { ...this.env(), GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : this.env();
    return execFileSync('sh', ['-c', commands, 'sh', ...args], { cwd: this.dir, env, encoding: 'utf8' });
  }
}
