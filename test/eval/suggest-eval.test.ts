// fim-eval's commit-diff task set: task reading from held-out history, the scores, and the run
// through the built CLI, base model against an adapter that has memorised the held-out diffs
// (so the adapter's column is known: every suggestion applies and is the real change).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultLoraSpec, detectFimTemplate, loadTokenizer, openModelFolder, writePeftAdapter } from '../../engine/index.js';
import {
  aggregateCommitDiff,
  readCommitDiffTasks,
  scoreCommitDiff,
  summarizeCommitDiff,
  takeCommitDiffSet,
  type CommitDiffOutput,
  type CommitDiffReport,
  type CommitDiffTask,
} from '../../eval/index.js';
import { commitDiffSequence, loraTarget, TrainLoop } from '../../finetune/index.js';
import { sequenceFormat } from '../../suggest/index.js';
import { BIN, testRoot, tinyModel } from '../helpers/adapt-fixtures.js';
import { ScriptedRepo } from '../helpers/scripted-repo.js';

const { root, env } = testRoot('cf-suggest-eval-');
const model = tinyModel(join(root, 'model'));
const adapterDir = join(root, 'adapter');
let repo: ScriptedRepo;
let heldout: CommitDiffTask[];

const CONFIG = 'DEBUG = False\nPORT = 8000\nHOST = "localhost"\n';

before(async () => {
  repo = new ScriptedRepo('cf-suggest-eval-repo-');
  repo.write('settings.py', CONFIG).write('app.py', 'import settings\n\nprint(settings.PORT)\n').commit('start');
  repo.write('settings.py', CONFIG.replace('8000', '8080')).commit('use port 8080');
  repo.write('app.py', 'import settings\n\nprint(settings.PORT)\nprint(settings.HOST)\n').commit('print the host');
  // Held out (the newest 40%): two modifications and one new file, which is no commit-diff task.
  repo.write('settings.py', CONFIG.replace('8000', '8080').replace('False', 'True')).commit('turn debugging on');
  repo.write('app.py', 'import settings\n\nprint(settings.PORT, settings.HOST)\n').write('extra.py', 'x = 1\n').commit('one print');
  heldout = (await readCommitDiffTasks(repo.dir, { split: { holdoutPercent: 40 } })).tasks;

  // An adapter that has learned the held-out diffs by heart, in the training format.
  const tok = await loadTokenizer(model);
  const folder = openModelFolder(model);
  const fmt = sequenceFormat(tok, detectFimTemplate(tok)!, folder.config, 512);
  const train = heldout.map((t) => commitDiffSequence(fmt, t)!);
  const target = loraTarget(folder, defaultLoraSpec({ r: 8, alpha: 16 }));
  const loop = await TrainLoop.create({
    target,
    train,
    steps: 100,
    batchSize: 2,
    lr: 2e-2,
    warmupSteps: 5,
    weightDecay: 0,
    seed: 1,
    session: { threads: 1 },
  });
  await loop.run();
  await loop.close();
  writePeftAdapter(adapterDir, target.toAdapter(loop.values, model));
  folder.weights.close();
});
after(() => {
  repo?.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('commit-diff tasks and scores', () => {
  it('are the files held-out commits modified, with message, file before and real diff', () => {
    assert.deepEqual(
      heldout.map((t) => [t.message, t.path]),
      [
        ['turn debugging on', 'settings.py'],
        ['one print', 'app.py'],
      ],
    );
    assert.equal(heldout[0].before, CONFIG.replace('8000', '8080'));
    assert.match(heldout[0].diff, /^--- a\/settings\.py\n\+\+\+ b\/settings\.py\n@@ -1,3 \+1,3 @@\n-DEBUG = False\n\+DEBUG = True\n/);
    assert.match(heldout[1].id, /^commit-diff:app\.py:[0-9a-f]{12}$/);
  });

  it('takes a seeded sample when limited', async () => {
    const one = await readCommitDiffTasks(repo.dir, { split: { holdoutPercent: 40 }, limit: 1, seed: 3 });
    assert.equal(one.tasks.length, 1);
    assert.equal(one.candidates, 2);
    assert.deepEqual(one.tasks, (await readCommitDiffTasks(repo.dir, { split: { holdoutPercent: 40 }, limit: 1, seed: 3 })).tasks);
  });

  it('score application, chrF of the hunks, and exact hunks', () => {
    const real = heldout[0].diff;
    const same = scoreCommitDiff(real.replace(/^(@@ [^@]+ @@).*$/m, '$1'), '', real);
    assert.deepEqual({ ...same, chrf: undefined }, { applies: true, chrf: undefined, hunksMatched: 1, hunks: 1, exact: true });
    const moved = scoreCommitDiff(real.replace('@@ -1,3 +1,3 @@', '@@ -2,3 +2,3 @@'), '', real);
    assert.equal(moved.hunksMatched, 0);
    const none = scoreCommitDiff(undefined, 'DEBUG = True', real);
    assert.equal(none.applies, false);
    assert.ok(none.chrf[0] > 0, 'chrF of what the model wrote');
    const out = (s: ReturnType<typeof scoreCommitDiff>): CommitDiffOutput => ({
      ...s,
      text: '',
      candidate: null,
      candidates: 1,
      milliseconds: 0,
    });
    const v = aggregateCommitDiff([out(same), out(none)]);
    assert.equal(v.applies, 0.5);
    assert.equal(v.hunks, 0.5);
    assert.equal(v.exact, 0.5);
    const task = heldout[0];
    const summary = summarizeCommitDiff(
      [
        { task, base: out(none), adapter: out(same) },
        { task, base: out(none), adapter: out(same) },
      ],
      { resamples: 50 },
    );
    assert.deepEqual([summary.delta!.applies.value, summary.delta!.applies.low, summary.delta!.applies.high], [1, 1, 1]);
  });

  it('splits commit-diff off the --tasks list', () => {
    assert.deepEqual(takeCommitDiffSet(undefined), { fimSets: undefined, commitDiff: false });
    assert.deepEqual(takeCommitDiffSet('commit-diff'), { fimSets: undefined, commitDiff: true });
    assert.deepEqual(takeCommitDiffSet('single-line, commit-diff'), { fimSets: 'single-line', commitDiff: true });
    assert.deepEqual(takeCommitDiffSet('single-line'), { fimSets: 'single-line', commitDiff: false });
  });
});

describe('fim-eval --tasks commit-diff', () => {
  const cli = (...args: string[]) =>
    spawnSync(
      process.execPath,
      [
        BIN,
        'fim-eval',
        repo.dir,
        '--model',
        model,
        '--holdout',
        '40%',
        '--threads',
        '1',
        '--max-tokens',
        '160',
        '--resamples',
        '50',
        ...args,
      ],
      { env, encoding: 'utf8' },
    );

  it('reports base against adapter: the memorised adapter applies every real diff exactly', () => {
    const r = cli('--tasks', 'commit-diff', '--adapter', adapterDir, '--json');
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as CommitDiffReport;
    assert.equal(report.format, 'codefudge-commit-diff-eval');
    assert.deepEqual(
      report.tasks.map((t) => t.path),
      ['settings.py', 'app.py'],
    );
    const s = report.summary;
    assert.equal(s.tasks, 2);
    assert.equal(s.base.applies, 0, JSON.stringify(report.tasks.map((t) => t.base)));
    assert.deepEqual(
      [s.adapter!.applies, s.adapter!.exact, s.adapter!.hunks],
      [1, 1, 1],
      JSON.stringify(report.tasks.map((t) => t.adapter)),
    );
    assert.ok(s.adapter!.chrf > 99 && s.base.chrf < 60, `chrF ${s.base.chrf} -> ${s.adapter!.chrf}`);
    assert.equal(s.delta!.applies.value, 1);
    assert.equal(report.tasks[0].adapter!.text.replace(/^(@@ [^@]+ @@).*$/m, '$1'), heldout[0].diff.replace(/^(@@ [^@]+ @@).*$/m, '$1'));
  });

  it('prints a table, and puts both kinds in one JSON report when FIM sets are asked for too', () => {
    const table = cli('--tasks', 'commit-diff');
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^task set\s+tasks\s+applies\s+chrF\s+hunks\s+exact\ncommit-diff\s+2\s+0\.0%/);
    const both = cli('--tasks', 'single-line,commit-diff', '--limit', '2', '--json');
    assert.equal(both.status, 0, both.stderr);
    const report = JSON.parse(both.stdout);
    assert.deepEqual(
      report.sets.map((s: { name: string }) => s.name),
      ['single-line'],
    );
    assert.equal(report.commitDiff.summary.tasks, 2);
  });
});
