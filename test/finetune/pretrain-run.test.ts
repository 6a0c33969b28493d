import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Completer, openModelFolder } from '../../engine/index.js';
import { pretrain } from '../../finetune/index.js';

const root = mkdtempSync(join(tmpdir(), 'cf-pretrain-run-'));
process.env.CODEFUDGE_CACHE = join(root, 'cache');
after(() => rmSync(root, { recursive: true, force: true }));

/** A small corpus of distinct, realistic Python files (each over the 1 KB minimum). */
function writeCorpus(dir: string, files: number): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < files; i++) {
    const body = Array.from(
      { length: 12 },
      (_, j) => `def f_${i}_${j}(x, y=${j}):\n    """Return x scaled by ${j}."""\n    total = x * ${j} + y\n    return total\n`,
    ).join('\n');
    writeFileSync(join(dir, `mod_${i}.py`), `# module ${i}\nimport os\n\n${body}`);
  }
}

const tinyRecipe = {
  hiddenSize: 32,
  layers: 1,
  heads: 2,
  kvHeads: 1,
  intermediateSize: 64,
  vocabSize: 400,
  seqLen: 64,
  batchSize: 2,
  warmupSteps: 2,
  tokenizerBytes: 1e6,
  validationFraction: 0.2,
};

describe('codefudge pretrain', () => {
  it('trains a model folder that loads and completes, with its corpus statistics and loss curve', async () => {
    const corpus = join(root, 'corpus');
    writeCorpus(corpus, 12);
    const out = join(root, 'model');
    const r = await pretrain({ corpus, out, recipe: tinyRecipe, steps: 30, evalEvery: 10 });
    assert.equal(r.stopped, false);
    for (const f of [
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
      'corpus-stats.json',
      'training-log.json',
    ]) {
      assert.ok(existsSync(join(out, f)), `${f} missing`);
    }
    const log = JSON.parse(readFileSync(join(out, 'training-log.json'), 'utf8'));
    assert.equal(log.losses.length, 30);
    assert.ok(log.losses.at(-1) < log.losses[0] - 1, `loss did not fall: ${log.losses[0]} -> ${log.losses.at(-1)}`);
    assert.ok(Number.isFinite(r.validationLoss));
    const folder = openModelFolder(out);
    // A tiny corpus may run out of pairs to merge before the asked vocabulary.
    const vocab = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')).model.vocab;
    assert.equal(folder.config.vocabSize, Object.keys(vocab).length);
    assert.ok(folder.config.vocabSize <= 400);
    assert.equal(folder.weights.dtype('model.embed_tokens.weight'), 'F16');
    const c = await Completer.load(out, { threads: 1 });
    assert.equal(c.template.family, 'starcoder');
    const done = await c.complete({ prefix: 'def f(x):\n    ', suffix: '\n', maxNewTokens: 8 });
    assert.equal(typeof done.text, 'string');
    await c.release();
    assert.ok(!existsSync(`${out}.tmp-${process.pid}`));

    // Growing it: continue from its weights with a new schedule; the lineage is kept.
    const grown = join(root, 'grown');
    const g = await pretrain({ corpus, out: grown, from: out, recipe: { ...tinyRecipe, seed: 1, fimChunkChars: 200 }, steps: 10 });
    const fimMode = (dir: string) => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).codefudge.fim_mode;
    assert.equal(fimMode(out), 'spm', 'whole-file FIM rows: SPM');
    assert.equal(fimMode(grown), 'psm', 'a --fim-chunk stage makes PSM the preferred order');
    const glog = JSON.parse(readFileSync(join(grown, 'training-log.json'), 'utf8'));
    assert.equal(glog.previous.steps, 30);
    assert.equal(glog.tokensSeen, 30 * 2 * 64 + 10 * 2 * 64);
    assert.ok(glog.losses[0] < log.losses[0] - 1, 'continued training must start from the trained weights, not a fresh init');
    assert.equal(readFileSync(join(grown, 'tokenizer.json'), 'utf8'), readFileSync(join(out, 'tokenizer.json'), 'utf8'));
    assert.ok(Number.isFinite(g.validationLoss));
  });

  it('--time picks the steps; Ctrl-C stops with a checkpoint and the same command resumes to the end', async () => {
    const corpus = join(root, 'corpus2');
    writeCorpus(corpus, 10);
    const out = join(root, 'model2');
    const args = [
      'bin/codefudge.js',
      'pretrain',
      '--corpus',
      corpus,
      '--out',
      out,
      '--steps',
      '400',
      '--hidden',
      '32',
      '--layers',
      '1',
      '--heads',
      '2',
      '--kv-heads',
      '1',
      '--ffn',
      '64',
      '--vocab',
      '400',
      '--seq',
      '64',
      '--batch',
      '2',
    ];
    const env = { ...process.env };
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    // Interrupt once training has checkpointed at least once (every 50 steps).
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const poll = setInterval(() => {
      if (existsSync(join(`${out}.work`, 'checkpoint'))) {
        clearInterval(poll);
        child.kill('SIGINT');
      }
    }, 20);
    const code = await exited;
    clearInterval(poll);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /stopped at step \d+; run the same command again to resume/);
    assert.ok(!existsSync(join(out, 'config.json')), 'an interrupted run must not leave a model folder');
    const again = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /resuming at step \d+ of 400/);
    assert.match(
      again.stderr,
      /data: \d+ passes with fresh FIM cuts, \d+ rows/,
      '800 rows asked of a small corpus: several passes, each cut anew',
    );
    assert.match(again.stderr, /eval \d+\.\d{4}@\d+ /, 'the latest validation loss stays on the progress line');
    assert.match(again.stdout, /model written to .*: 400 steps/);
    const timed = spawnSync(
      process.execPath,
      [
        ...args.slice(0, 6),
        '--out',
        join(root, 'model3'),
        '--time',
        '2s',
        ...args.slice(8).filter((_, i, a) => a[i - 1] !== '--steps' && a[i] !== '--steps'),
      ],
      { env, encoding: 'utf8' },
    );
    assert.equal(timed.status, 0, timed.stderr);
    assert.match(timed.stderr, /--time: .* s\/step measured, \d+ steps fit/);
  });

  it('rejects a missing corpus and a missing budget with one line', () => {
    const r = spawnSync(
      process.execPath,
      ['bin/codefudge.js', 'pretrain', '--corpus', join(root, 'nope'), '--out', join(root, 'x'), '--steps', '1'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), `codefudge: corpus folder "${join(root, 'nope')}" does not exist`);
    const corpus = join(root, 'corpus');
    const b = spawnSync(process.execPath, ['bin/codefudge.js', 'pretrain', '--corpus', corpus, '--out', join(root, 'y')], {
      encoding: 'utf8',
      env: process.env,
    });
    assert.equal(b.status, 1);
    assert.match(b.stderr.trim(), /^codefudge: pretrain needs --steps N or --time DURATION$/);
    const c = spawnSync(
      process.execPath,
      ['bin/codefudge.js', 'pretrain', '--corpus', corpus, '--out', join(root, 'z'), '--steps', '1', '--fim-line-rate', '2'],
      { encoding: 'utf8' },
    );
    assert.equal(c.status, 1);
    assert.equal(c.stderr.trim(), 'codefudge: --fim-line-rate must be in 0..1, got 2');
  });
});
