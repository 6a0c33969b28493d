// The CLI's flags: node's parseArgs over a command's option table, its errors as one line, and the
// typed readers; then the real binary, where a bad flag is one line on stderr and exit status 1.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UserError } from '../../common/index.js';
import { flagChoice, flagInt, flagNumber, flagPositiveInt, parseFlags, type OptionTable } from '../../cli/flags.js';
import { pathFilterOptions } from '../../cli/history-flags.js';
import { assertOneLineError, runCli } from '../helpers/cli.js';

const OPTIONS = {
  out: { type: 'string' },
  limit: { type: 'string' },
  quiet: { type: 'boolean' },
  ...pathFilterOptions,
} satisfies OptionTable;

const parse = (...argv: string[]) => parseFlags(argv, OPTIONS);

/** parseFlags' error for argv: a UserError of one line. */
function errorOf(...argv: string[]): string {
  try {
    parse(...argv);
  } catch (e) {
    assert.ok(e instanceof UserError, `not a UserError: ${String(e)}`);
    assert.doesNotMatch(e.message, /\n/);
    return e.message;
  }
  assert.fail(`${argv.join(' ')} parsed`);
}

describe('parseFlags', () => {
  it('reads values, bare booleans and positionals', () => {
    const { values, positionals } = parse('repo', '--out', 'a.jsonl', '--quiet', '--limit=3', 'more');
    assert.deepEqual({ ...values }, { out: 'a.jsonl', quiet: true, limit: '3' });
    assert.deepEqual(positionals, ['repo', 'more']);
  });

  it('collects every --include and --exclude; a flag that does not repeat keeps its last value', () => {
    const { values } = parse('--include', 'src/**', '--exclude', '*.md', '--include=lib/*.py', '--out', 'a', '--out', 'b');
    assert.deepEqual(values.include, ['src/**', 'lib/*.py']);
    assert.deepEqual(values.exclude, ['*.md']);
    assert.equal(values.out, 'b');
    assert.equal(parse().values.include, undefined);
  });

  it('an unknown option is one line naming it', () => {
    assert.equal(errorOf('--bogus', '1'), 'unknown option --bogus');
    assert.equal(errorOf('--bogus=1'), 'unknown option --bogus');
    assert.equal(errorOf('repo', '-x'), 'unknown option -x');
  });

  it('a missing value is one line naming the flag', () => {
    assert.equal(errorOf('repo', '--out'), '--out needs a value');
    assert.equal(errorOf('--include'), '--include needs a value');
    // Another flag where the value should be: the flag, and how to give a value that starts with "-".
    assert.equal(errorOf('--out', '--quiet'), '--out needs a value (one that starts with "-" is written --out=VALUE)');
  });

  it('a value given to a boolean flag is one line', () => {
    assert.equal(errorOf('--quiet=yes'), '--quiet takes no value');
    assert.equal(errorOf('--quiet=false'), '--quiet takes no value');
  });

  it('takes a negative number as a value, so the reader can say what range it wants', () => {
    assert.equal(parse('--limit', '-1').values.limit, '-1');
    assert.equal(parse('--limit', '-0.5', 'repo').values.limit, '-0.5');
    assert.deepEqual(parse('--limit', '-1', 'repo').positionals, ['repo']);
    assert.equal(parse('--out=-odd name').values.out, '-odd name');
    // Only after a flag that takes a value: alone, -1 is an option.
    assert.equal(errorOf('-1'), 'unknown option -1');
  });

  it('-- ends the options', () => {
    const { values, positionals } = parse('--quiet', '--', '--out', '-1');
    assert.deepEqual({ ...values }, { quiet: true });
    assert.deepEqual(positionals, ['--out', '-1']);
  });
});

describe('flag readers', () => {
  const values = { n: '12', bad: '1.5', neg: '-3', word: 'abc', empty: '', mode: 'line' };
  it('read integers and numbers, with a fallback or undefined when not given', () => {
    assert.equal(flagInt(values, 'n'), 12);
    assert.equal(flagInt({} as { n?: string }, 'n'), undefined);
    assert.equal(flagInt({} as { n?: string }, 'n', 7), 7);
    assert.equal(flagNumber(values, 'bad'), 1.5);
    assert.throws(() => flagInt(values, 'bad'), new UserError('--bad must be an integer, got "1.5"'));
    assert.throws(() => flagInt(values, 'empty'), new UserError('--empty must be an integer, got ""'));
    assert.throws(() => flagNumber(values, 'word'), new UserError('--word must be a number, got "abc"'));
  });

  it('read positive integers and choices', () => {
    assert.equal(flagPositiveInt(values, 'n'), 12);
    assert.throws(() => flagPositiveInt(values, 'neg'), new UserError('--neg must be a positive integer, got "-3"'));
    assert.equal(flagChoice(values, 'mode', ['line', 'block', 'none']), 'line');
    assert.equal(flagChoice({} as { mode?: string }, 'mode', ['line', 'block'], 'block'), 'block');
    assert.throws(
      () => flagChoice(values, 'word', ['line', 'block', 'none']),
      new UserError('--word must be line, block or none, got "abc"'),
    );
    assert.throws(() => flagChoice(values, 'word', ['cpu', 'cuda']), new UserError('--word must be cpu or cuda, got "abc"'));
  });
});

describe('codefudge with a bad flag', () => {
  const root = mkdtempSync(join(tmpdir(), 'cf-parse-flags-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const pairs = join(root, 'pairs.jsonl');
  writeFileSync(pairs, '{"hyp": "a", "ref": "a"}\n');

  it('an unknown flag: exactly one line on stderr, no stack trace, exit status 1', () => {
    const r = runCli(['score', pairs, '--bogus']);
    assertOneLineError(r, /^codefudge: unknown option --bogus$/);
    assert.doesNotMatch(r.err, /\bat |TypeError|ERR_PARSE_ARGS/);
    // The same file without the flag is scored, so the flag alone made it fail.
    assert.equal(runCli(['score', pairs]).code, 0);
  });

  it('a missing value, a value for a boolean, a negative number out of range: one line each', () => {
    assertOneLineError(runCli(['history', 'export', root, '--out']), /^codefudge: --out needs a value$/);
    assertOneLineError(runCli(['adapt', root, '--quiet=yes']), /^codefudge: --quiet takes no value$/);
    assertOneLineError(runCli(['adapt', root, '--rank', '-2']), /^codefudge: --rank must be a positive integer, got "-2"$/);
    assertOneLineError(runCli(['bench', 'infer', '-q']), /^codefudge: unknown option -q$/);
  });
});
