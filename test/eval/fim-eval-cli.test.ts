// `codefudge fim-eval` end to end through the built CLI, on a real git repository and a tiny model.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultLoraSpec, layoutForSpec, makeLoraAdapter, readModelConfig, writePeftAdapter } from '../../engine/index.js';
import { Rng } from '../../common/index.js';
import { FIM_METRICS, type FimEvalReport } from '../../eval/index.js';
import { makeTinyModel } from '../helpers/tiny-model.js';
import { assertOneLineError, runCli } from '../helpers/cli.js';
import { PYTHON, TYPESCRIPT } from '../helpers/tasks-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'cf-fim-eval-'));
after(() => rmSync(root, { recursive: true, force: true }));
const model = join(root, 'model');
makeTinyModel(model, { layers: 1, seed: 5 });

const adapter = join(root, 'adapter');
{
  const spec = defaultLoraSpec({ r: 2, alpha: 4 });
  const rng = new Rng(9);
  const matrices = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const m of layoutForSpec(readModelConfig(model), spec).modules) {
    matrices.set(m.keyA, { shape: [m.r, m.inFeatures], data: Float32Array.from({ length: m.r * m.inFeatures }, () => rng.normal()) });
    matrices.set(m.keyB, { shape: [m.outFeatures, m.r], data: Float32Array.from({ length: m.r * m.outFeatures }, () => rng.normal()) });
  }
  writePeftAdapter(adapter, makeLoraAdapter(spec, null, matrices));
}

function write(dir: string, files: Record<string, string>) {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
}

function git(dir: string, ...args: string[]) {
  execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: dir });
}

// Two commits: the second (held out) adds lines to both files.
const repo = join(root, 'repo');
write(repo, {
  'pkg/box.py': PYTHON.split('\n').slice(0, 9).join('\n') + '\n',
  'src/greet.ts': TYPESCRIPT.split('\n').slice(0, 4).join('\n') + '\n',
});
git(repo, 'init', '-q');
git(repo, 'add', '.');
git(repo, 'commit', '-qm', 'first');
write(repo, { 'pkg/box.py': PYTHON, 'src/greet.ts': TYPESCRIPT, 'README.md': '# demo\n' });
git(repo, 'add', '.');
git(repo, 'commit', '-qm', 'second');

const cli = (...args: string[]) => runCli(['fim-eval', ...args], { ...process.env, CODEFUDGE_CACHE: join(root, 'cache') });

/** What must not change between runs with the same seed. */
function outcome(report: FimEvalReport) {
  return report.tasks.map((t) => ({ id: t.id, expected: t.expected, text: t.base.text, scores: t.base.scores }));
}

describe('codefudge fim-eval', () => {
  let first: FimEvalReport;

  it('evaluates a repository, base and adapter, with the JSON report on stdout and an HTML file', () => {
    const html = join(root, 'report.html');
    const r = cli(
      repo,
      '--model',
      model,
      '--adapter',
      adapter,
      '--limit',
      '3',
      '--max-tokens',
      '4',
      '--seed',
      '2',
      '--holdout',
      '50',
      '--json',
      '--html',
      html,
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /fim-eval: \d+ tasks in [\d.]+ s/);
    first = JSON.parse(r.out) as FimEvalReport;
    assert.deepEqual(first.options.sets, ['function-line', 'single-line', 'multi-line', 'random-span', 'temporal']);
    assert.equal(first.source.git, true);
    assert.equal(first.source.files, 2);
    assert.equal(first.source.temporal?.heldoutCommits, 1);
    assert.equal(first.model.fimFamily, 'starcoder');
    assert.ok(first.model.adapter?.endsWith('adapter'));
    for (const s of first.sets) {
      assert.ok(s.tasks >= 1 && s.tasks <= 3, `${s.name}: ${s.tasks}`);
      assert.ok(s.candidates >= s.tasks);
      for (const m of FIM_METRICS) {
        assert.ok(Number.isFinite(s.base[m.key]) && Number.isFinite(s.adapter![m.key]), `${s.name} ${m.key}`);
        assert.ok(s.delta![m.key].low <= s.delta![m.key].value + 1e-9 || s.tasks === 1);
      }
    }
    for (const t of first.tasks) {
      assert.ok(t.base.tokens <= 4);
      if (t.stop === 'line') assert.ok(!t.base.text.includes('\n'), `${t.id}: a line middle holds a newline`);
      assert.ok(t.base.scores.cosine >= -1 && t.base.scores.cosine <= 1);
      if (t.set === 'temporal') assert.match(t.sha ?? '', /^[0-9a-f]{40}$/);
    }
    assert.ok(first.tasks.some((t) => t.set === 'temporal'));
    assert.ok(
      first.tasks.some((t) => t.adapter!.text !== t.base.text),
      'the adapter changes some middle',
    );
    const page = readFileSync(html, 'utf8');
    assert.match(page, /^<!DOCTYPE html>/);
    assert.ok(page.includes('<svg'));
  });

  it('is reproducible with the same seed; prints the table and writes --json=FILE', () => {
    const file = join(root, 'again.json');
    const r = cli(repo, '--model', model, '--limit', '3', '--max-tokens', '4', '--seed', '2', '--holdout', '50', `--json=${file}`);
    assert.equal(r.code, 0, r.err);
    const again = JSON.parse(readFileSync(file, 'utf8')) as FimEvalReport;
    assert.deepEqual(outcome(again), outcome(first));
    assert.equal(again.model.adapter, null);
    const lines = r.out.split('\n');
    assert.match(lines[0], /^task set\s+tasks\s+EM\s+EM1\s+chrF\s+BLEU\s+WER\s+IoU\s+EditSim\s+cos$/);
    assert.deepEqual(
      lines.slice(1, 7).map((l) => l.split(/\s+/)[0]),
      ['function-line', 'single-line', 'multi-line', 'random-span', 'temporal', 'all'],
    );
  });

  it('runs only the task sets asked for', () => {
    const r = cli(repo, '--model', model, '--tasks', 'multi-line', '--limit', '1', '--max-tokens', '2', '--json');
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out) as FimEvalReport;
    assert.deepEqual(
      report.sets.map((s) => s.name),
      ['multi-line'],
    );
    assert.equal(report.tasks.length, 1);
    assert.equal(report.tasks[0].stop, 'block');
  });

  it('takes temporal tasks of a subfolder from that subfolder only, with its paths', () => {
    const r = cli(
      join(repo, 'pkg'),
      '--model',
      model,
      '--tasks',
      'temporal',
      '--holdout',
      '50',
      '--limit',
      '2',
      '--max-tokens',
      '2',
      '--json',
    );
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out) as FimEvalReport;
    assert.ok(report.tasks.length >= 1);
    assert.ok(
      report.tasks.every((t) => t.path === 'box.py'),
      JSON.stringify(report.tasks.map((t) => t.path)),
    );
  });

  it('refuses bad input with one line', () => {
    const plain = join(root, 'plain');
    write(plain, { 'README.md': '# nothing\n', 'a.py': 'x = 1\n' });
    const docs = join(root, 'docs');
    write(docs, { 'README.md': '# nothing\n' });
    assertOneLineError(cli(join(root, 'missing'), '--model', model), /no such directory: .*missing/);
    assertOneLineError(cli(docs, '--model', model), /no Python, TypeScript or JavaScript files in .*docs/);
    assertOneLineError(
      cli(repo, '--model', model, '--tasks', 'function-line,lines'),
      /unknown task set "lines" \(known: function-line, single-line/,
    );
    assertOneLineError(cli(plain, '--model', model, '--tasks', 'temporal'), /temporal task set needs a git repository/);
    assertOneLineError(cli(plain, '--model', model, '--adapter', join(root, 'nope')), /adapter folder ".*nope" does not exist/);
    assertOneLineError(cli(plain, '--model', model, '--limit', '-1'), /--limit must be at least 0/);
    assertOneLineError(cli(plain, '--model', model, '--bogus', '1'), /unknown option --bogus/);
    assertOneLineError(cli('--model', model), /exactly one folder/);
  });
});
