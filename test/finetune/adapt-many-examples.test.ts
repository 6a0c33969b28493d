// Issue 13 item 1 and the big-history goal: more than 4096 examples (the default budget) from a
// real git history made with fast-import, kept in memory bounded by the budget, all the way to
// token sequences; and a history longer than the budget read at a bounded number of commits.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { detectFimTemplate, loadTokenizer, readModelConfig } from '../../engine/index.js';
import { pickMix, sampleExamples, toSequencesAsync } from '../../finetune/index.js';
import { sequenceFormat } from '../../suggest/index.js';
import { emptyStats, generateExamples, openRepository } from '../../history/index.js';
import { makeSyntheticHistory } from '../../bench/synthetic-history.js';
import { tinyModel } from '../helpers/adapt-fixtures.js';

const root = fs.mkdtempSync(join(tmpdir(), 'cf-many-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const repoDir = join(root, 'repo');
before(async () => {
  // Files start with a blank line: the prefix walk that never ended started exactly there.
  await makeSyntheticHistory(repoDir, { commits: 700, files: 40, functionsPerFile: 60, header: '\n' });
});

it('more than 4096 examples become 4096 sequences, with only the budget kept in memory', async () => {
  const model = tinyModel(join(root, 'model'));
  const tok = await loadTokenizer(model);
  const fmt = sequenceFormat(tok, detectFimTemplate(tok)!, readModelConfig(model), 128);
  const repo = await openRepository(repoDir);
  try {
    const data = await sampleExamples(
      repo,
      { split: { holdoutPercent: 10 }, fimRevisions: 'each', seed: 1 },
      { maxExamples: 4096, maxHeldout: 64, seed: 1 },
    );
    const made = data.stats.examples.fim + data.stats.examples.commitDiff;
    assert.ok(made > 4096, `${made} examples`);
    assert.ok(data.train.fim.length <= 4096 && data.train.commitDiff.length <= 4096);
    assert.ok(data.heldout.length <= 64);
    const pick = pickMix(data.train.fim, data.train.commitDiff, { commitDiffShare: 0.3, max: 4096, seed: 1 });
    assert.equal(pick.fim.length + pick.commitDiff.length, 4096);
    const seqs = await toSequencesAsync(fmt, pick, 'all');
    assert.ok(seqs.length > 4000, `${seqs.length} sequences`);
    assert.ok(seqs.every((s) => s.ids.length <= 128));
  } finally {
    repo.close();
  }
});

it('a history longer than the budget is read at that many commits, spread over it', async () => {
  const repo = await openRepository(repoDir);
  try {
    const stats = emptyStats();
    const shas = new Set<string>();
    for await (const ex of generateExamples(repo, { split: { holdoutPercent: 10 }, maxCommits: { train: 50, heldout: 10 } }, stats)) {
      if (ex.kind === 'commit-diff') shas.add(ex.sha);
    }
    assert.deepEqual(stats.readCommits, { train: 50, heldout: 10 });
    assert.equal(stats.trainCommits, 630);
    assert.equal(shas.size, 50);
  } finally {
    repo.close();
  }
});
