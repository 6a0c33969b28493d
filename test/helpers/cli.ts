import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

/** Runs the built `codefudge` as a user would, from the repository root. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): CliResult {
  const r = spawnSync(process.execPath, ['bin/codefudge.js', ...args], { encoding: 'utf8', env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A failing command prints exactly one `codefudge: ...` line matching `pattern`, no stack trace, and exits 1. */
export function assertOneLineError(r: CliResult, pattern: RegExp, opts: { emptyStdout?: boolean } = {}): void {
  assert.equal(r.code, 1, r.err);
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${r.err}`);
  assert.match(lines[0], /^codefudge: /);
  assert.match(lines[0], pattern);
  if (opts.emptyStdout ?? true) assert.equal(r.out, '');
}
