import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../common/index.js';
import {
  collectExamples,
  openRepository,
  parseCutoff,
  parseHoldout,
  splitCommits,
  type CommitInfo,
  type HistoryDataset,
  type HistoryOptions,
} from '../../history/index.js';
import { ScriptedRepo } from '../helpers/scripted-repo.js';

function commitAt(sha: string, day: number): CommitInfo {
  const time = Date.UTC(2024, 0, day) / 1000;
  const person = { name: 'a', email: 'a@b', date: new Date(time * 1000).toISOString(), time };
  return { sha, parents: [], tree: '', author: person, committer: person, subject: sha, body: '', message: sha };
}

test('a percentage holds out the newest commits, ceil(n*p), keeping one to train on', () => {
  const cs = Array.from({ length: 10 }, (_, i) => commitAt(`c${i}`, i + 1));
  const names = (s: ReturnType<typeof splitCommits>) => [
    s.train.map((c) => c.sha).join(','),
    s.heldout.map((c) => c.sha).join(','),
    s.cutoffSha,
  ];
  assert.deepEqual(names(splitCommits(cs, { holdoutPercent: 10 })), ['c0,c1,c2,c3,c4,c5,c6,c7,c8', 'c9', 'c8']);
  assert.deepEqual(names(splitCommits(cs, { holdoutPercent: 25 })), ['c0,c1,c2,c3,c4,c5,c6', 'c7,c8,c9', 'c6']);
  assert.deepEqual(names(splitCommits(cs, { holdoutPercent: 0 })), ['c0,c1,c2,c3,c4,c5,c6,c7,c8,c9', '', 'c9']);
  assert.deepEqual(names(splitCommits(cs, { holdoutPercent: 100 })), ['c0', 'c1,c2,c3,c4,c5,c6,c7,c8,c9', 'c0']);
  assert.deepEqual(names(splitCommits(cs.slice(0, 1), { holdoutPercent: 10 })), ['c0', '', 'c0']);
  assert.deepEqual(names(splitCommits(cs)), names(splitCommits(cs, { holdoutPercent: 10 })), 'default 10%');
});

test('a date ends training at the first commit on or after it, so the split stays a prefix', () => {
  const cs = [commitAt('a', 1), commitAt('b', 3), commitAt('c', 2), commitAt('d', 5)];
  const s = splitCommits(cs, { cutoff: parseCutoff('2024-01-03') });
  assert.deepEqual([s.train.map((c) => c.sha), s.heldout.map((c) => c.sha)], [['a'], ['b', 'c', 'd']]);
  const none = splitCommits(cs, { cutoff: parseCutoff('2023-12-01') });
  assert.deepEqual([none.train, none.cutoffSha], [[], null]);
  assert.equal(splitCommits(cs, { cutoff: parseCutoff('2030-01-01T00:00:00Z') }).heldout.length, 0);
});

test('cutoff and holdout parsing', () => {
  assert.equal(parseCutoff('2024-01-01').toISOString(), '2024-01-01T00:00:00.000Z');
  assert.equal(parseCutoff('2024-01-01T10:00:00+02:00').toISOString(), '2024-01-01T08:00:00.000Z');
  assert.throws(
    () => parseCutoff('yesterday'),
    (e: unknown) => e instanceof UserError && /--cutoff/.test(e.message),
  );
  assert.throws(() => parseCutoff('2024-13-45'), UserError);
  assert.equal(parseHoldout('10%'), 10);
  assert.equal(parseHoldout('12.5'), 12.5);
  assert.throws(
    () => parseHoldout('120%'),
    (e: unknown) => e instanceof UserError && /--holdout/.test(e.message),
  );
  assert.throws(() => parseHoldout('ten'), UserError);
});

/** Lines a commit adds, read with git itself. */
function addedByGit(r: ScriptedRepo, sha: string): string[] {
  return r
    .git('show', '--format=', '--no-renames', sha)
    .split('\n')
    .filter((l) => l.startsWith('+') && !l.startsWith('+++'))
    .map((l) => l.slice(1));
}

describe('held-out history never reaches training', () => {
  let r: ScriptedRepo;
  const shas: string[] = [];
  before(() => {
    r = new ScriptedRepo();
    let mod = 'def base():\n    return 0\n';
    for (let i = 1; i <= 10; i++) {
      mod += `\n\ndef f${i}(x):\n    return x + ${i}  # marker_${i}\n`;
      mod = mod.replace(/return 0.*\n/, `return 0  # edited_${i}\n`);
      r.write('src/mod.py', mod).write(`src/new_${i}.py`, `V_${i} = "unique_${i}"\nW_${i} = V_${i} * 2\n`);
      shas.push(r.commit(`Add f${i} (note_${i})`));
    }
  });
  after(() => r?.cleanup());

  async function check(opts: HistoryOptions, heldout: string[]): Promise<HistoryDataset> {
    const repo = await openRepository(r.dir);
    try {
      const data = await collectExamples(repo, { ...opts, seed: 11, linesPerExample: 1 });
      assert.equal(data.stats.cutoffSha, shas[9 - heldout.length]);
      const secret = heldout.flatMap((sha) => addedByGit(r, sha)).filter((l) => l.trim().length > 3);
      secret.push(...heldout.map((_, k) => `note_${10 - k}`));
      assert.ok(secret.length >= heldout.length * 5);
      const trainingText = [
        ...data.train.fim.flatMap((e) => [e.prefix, e.middle, e.suffix, e.path]),
        ...data.train.commitDiff.flatMap((e) => [e.message, e.before, e.diff, e.path]),
      ];
      assert.ok(data.train.fim.length > 0 && data.train.commitDiff.length > 0);
      for (const s of secret) {
        for (const t of trainingText) assert.ok(!t.includes(s), `held-out text "${s}" reached training`);
      }
      // The temporal items are exactly the held-out commits' added lines.
      assert.deepEqual(new Set(data.heldout.map((t) => t.sha)), new Set(heldout));
      for (const sha of heldout) {
        const items = data.heldout.filter((t) => t.sha === sha);
        const lines = items.flatMap((t) => t.addedLines.map((n) => t.after.split('\n')[n - 1]));
        assert.deepEqual(lines.sort(), addedByGit(r, sha).sort());
      }
      return data;
    } finally {
      repo.close();
    }
  }

  test('holding out the newest 30%', async () => {
    const data = await check({ split: { holdoutPercent: 30 } }, shas.slice(7));
    assert.deepEqual(
      data.heldout.map((t) => [t.path, t.status]),
      [
        ['src/mod.py', 'M'],
        ['src/new_8.py', 'A'],
        ['src/mod.py', 'M'],
        ['src/new_9.py', 'A'],
        ['src/mod.py', 'M'],
        ['src/new_10.py', 'A'],
      ],
    );
    const first = data.heldout[0];
    assert.deepEqual(first.addedLines, [2, 31, 32, 33, 34], '2 base lines + 7 functions of 4 lines, then the 8th');
    assert.deepEqual(
      first.addedLines.map((n) => first.after.split('\n')[n - 1]),
      ['    return 0  # edited_8', '', '', 'def f8(x):', '    return x + 8  # marker_8'],
    );
  });

  test('a cutoff date, with FIM from every training file version', async () => {
    const data = await check({ split: { cutoff: parseCutoff('2024-01-09') }, fimRevisions: 'each' }, shas.slice(8));
    // every version of src/mod.py up to the cutoff, each once
    assert.equal(new Set(data.train.fim.filter((e) => e.path === 'src/mod.py').map((e) => e.blob)).size, 8);
  });

  test('since a commit: only the newer training commits and the files they changed, same held-out set', async () => {
    const repo = await openRepository(r.dir);
    try {
      const data = await collectExamples(repo, { split: { holdoutPercent: 30 }, since: shas[4].slice(0, 10), seed: 2 });
      assert.deepEqual([...new Set(data.train.commitDiff.map((e) => e.sha))], [shas[5], shas[6]]);
      assert.deepEqual([...new Set(data.train.fim.map((e) => e.path))].sort(), ['src/mod.py', 'src/new_6.py', 'src/new_7.py']);
      assert.deepEqual([...new Set(data.heldout.map((t) => t.sha))], shas.slice(7));
      const after = await collectExamples(repo, { split: { holdoutPercent: 30 }, since: shas[8] });
      assert.deepEqual([after.train.fim, after.train.commitDiff], [[], []]);
      await assert.rejects(
        collectExamples(repo, { since: 'f00d' }),
        (e: unknown) => e instanceof UserError && /commit f00d is not in the history/.test(e.message),
      );
    } finally {
      repo.close();
    }
  });

  test('a cutoff before the first commit leaves nothing to train on', async () => {
    const repo = await openRepository(r.dir);
    try {
      await assert.rejects(
        collectExamples(repo, { split: { cutoff: parseCutoff('2023-06-01') } }),
        (e: unknown) => e instanceof UserError && /nothing to train on/.test(e.message),
      );
    } finally {
      repo.close();
    }
  });
});
