import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BpeEncoder, readTokenizer } from '../../finetune/pretrain/index.js';
import { pythonModule } from '../helpers/pretrain-code-samples.js';
import { assertOneLineError, runCli } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'cf-tokcli-'));
after(() => rmSync(root, { recursive: true, force: true }));
const corpus = join(root, 'corpus');
for (let i = 0; i < 30; i++) {
  const dir = join(corpus, `pkg${i % 3}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `m${i}.py`), pythonModule(1000 + i, 2500));
}
writeFileSync(join(corpus, 'tiny.py'), 'x = 1\n');

const cli = (...args: string[]) => runCli(args);

describe('codefudge tokenizer train', () => {
  it('writes tokenizer files and corpus statistics, with progress on stderr', () => {
    const out = join(root, 'out');
    const r = cli('tokenizer', 'train', '--corpus', corpus, '--out', out, '--vocab', '500', '--max-bytes', '60000');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, '');
    assert.match(r.err, /corpus: 30 of 31 files kept/);
    assert.match(r.err, /training BPE \(vocabulary 500\) on \d+ files/);
    assert.match(r.err, /tokenizer: 500 tokens/);
    assert.deepEqual(readdirSync(out).sort(), ['corpus-stats.json', 'tokenizer.json', 'tokenizer_config.json']);
    const stats = JSON.parse(readFileSync(join(out, 'corpus-stats.json'), 'utf8'));
    assert.equal(stats.filesSeen, 31);
    assert.equal(stats.dropped.tooSmall, 1);
    const model = readTokenizer(out);
    assert.equal(model.vocab.length, 500);
    const enc = new BpeEncoder(model);
    const text = pythonModule(5000, 500);
    assert.equal(enc.decode(enc.encode(text)), text);
  });

  it('fails with one clear line on bad input', () => {
    assertOneLineError(cli('tokenizer', 'train', '--out', join(root, 'x')), /--corpus DIR is required/);
    assertOneLineError(cli('tokenizer', 'train', '--corpus', join(root, 'missing'), '--out', join(root, 'x')), /corpus folder .*missing/);
    assertOneLineError(
      cli('tokenizer', 'train', '--corpus', corpus, '--out', join(root, 'x'), '--vocab', '100'),
      /vocabulary size must be/,
    );
    assertOneLineError(
      cli('tokenizer', 'train', '--corpus', corpus, '--out', join(root, 'x'), '--vocab', 'big'),
      /--vocab must be an integer/,
    );
    assertOneLineError(cli('tokenizer', 'fly'), /unknown tokenizer subcommand "fly"/);
    assertOneLineError(cli('tokenizer', 'train', '--corpus', corpus, '--bogus', '1'), /unknown option --bogus/);
  });
});

describe('codefudge tokenizer train, edge cases', () => {
  it('says so when the corpus runs out of pairs before the asked vocabulary', () => {
    const r = cli('tokenizer', 'train', '--corpus', corpus, '--out', join(root, 'big'), '--vocab', '20000', '--max-bytes', '10000');
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /stopped at \d+ tokens: no pair of tokens occurs 2 times or more/);
  });

  it('refuses a corpus with nothing left to train on', () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'tiny.py'), 'x = 1\n');
    const r = cli('tokenizer', 'train', '--corpus', empty, '--out', join(root, 'e'));
    assert.equal(r.code, 1, r.err);
    const lines = r.err.trim().split('\n');
    // the scan's progress line comes first, then the error, and no stack trace
    assert.match(lines[0], /^corpus: 0 of 1 files kept/);
    assert.match(lines[1], /^codefudge: no training files left in .*empty after filtering/);
    assert.equal(lines.length, 2);
  });
});
