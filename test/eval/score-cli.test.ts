// Runs the built CLI: `node bin/codefudge.js score PAIRS.jsonl`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scorePair } from '../../eval/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'bin', 'codefudge.js');
const fixture = JSON.parse(readFileSync(join(root, 'test/eval/fixtures/sacrebleu-reference.json'), 'utf8')) as {
  pairs: Array<{ hyp: string; ref: string; chrf: number; bleu: number }>;
  corpora: Array<{ name: string; chrf: number; bleu: number }>;
};

function withTempFile(content: string, body: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'codefudge-score-'));
  try {
    const path = join(dir, 'pairs.jsonl');
    writeFileSync(path, content);
    body(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function score(path: string) {
  return spawnSync(process.execPath, [bin, 'score', path], { encoding: 'utf8' });
}

test('score prints one JSON line per pair and a corpus line on stderr', () => {
  const lines = fixture.pairs.map(({ hyp, ref }) => JSON.stringify({ hyp, ref, id: 'ignored' }));
  withTempFile(lines.join('\n') + '\n\n', (path) => {
    const r = score(path);
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(out.length, fixture.pairs.length);
    out.forEach((row, i) => {
      const { hyp, ref, chrf, bleu } = fixture.pairs[i];
      assert.deepEqual(Object.keys(row), ['exact_match', 'exact_match_first_line', 'chrf', 'bleu', 'wer', 'iou', 'edit_sim']);
      assert.deepEqual(row, scorePair(hyp, ref));
      assert.ok(Math.abs(row.chrf - chrf) <= 1e-6 && Math.abs(row.bleu - bleu) <= 1e-6);
    });
    // The first pair is identical (BLEU is 100 up to float64 rounding of exp(log 100), as in sacrebleu).
    assert.deepEqual(
      { ...out[0], bleu: Math.round(out[0].bleu * 1e6) / 1e6 },
      { exact_match: 1, exact_match_first_line: 1, chrf: 100, bleu: 100, wer: 0, iou: 1, edit_sim: 1 },
    );

    const summaryLines = r.stderr.trimEnd().split('\n');
    assert.equal(summaryLines.length, 1);
    assert.match(summaryLines[0], /^corpus \{/);
    const summary = JSON.parse(summaryLines[0].slice('corpus '.length));
    const all = fixture.corpora.find((c) => c.name === 'all')!;
    assert.equal(summary.pairs, fixture.pairs.length);
    assert.ok(Math.abs(summary.chrf - all.chrf) <= 1e-6, `corpus chrF ${summary.chrf} vs ${all.chrf}`);
    assert.ok(Math.abs(summary.bleu - all.bleu) <= 1e-6, `corpus BLEU ${summary.bleu} vs ${all.bleu}`);
    const meanEditSim = out.reduce((s, row) => s + row.edit_sim, 0) / out.length;
    assert.ok(Math.abs(summary.edit_sim - meanEditSim) < 1e-12);
  });
});

test('score rejects bad input with one line naming the file and line', () => {
  const cases: Array<[string, RegExp]> = [
    ['{"hyp": "a", "ref": "a"}\n{"hyp": "a", "ref": \n', /pairs\.jsonl:2: not valid JSON/],
    ['{"hyp": "a", "ref": "a"}\n\n{"hyp": "a"}\n', /pairs\.jsonl:3: missing "ref"/],
    ['{"ref": "a"}\n', /pairs\.jsonl:1: missing "hyp"/],
    ['{"hyp": 3, "ref": "a"}\n', /pairs\.jsonl:1: "hyp" must be a string, got number/],
    ['{"hyp": "a", "ref": null}\n', /pairs\.jsonl:1: "ref" must be a string, got null/],
    ['["a", "b"]\n', /pairs\.jsonl:1: expected an object/],
  ];
  for (const [content, message] of cases) {
    withTempFile(content, (path) => {
      const r = score(path);
      assert.equal(r.status, 1, content);
      assert.equal(r.stdout, '', 'nothing is scored when any line is bad');
      assert.match(r.stderr, /^codefudge: .*\n$/);
      assert.match(r.stderr, message);
      assert.ok(r.stderr.includes(path));
    });
  }
});

test('score reports a missing file or missing argument as a user error', () => {
  const missing = join(tmpdir(), 'codefudge-no-such-dir', 'pairs.jsonl');
  const r = score(missing);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^codefudge: cannot read pairs file .*pairs\.jsonl: .*ENOENT.*\n$/);
  const none = spawnSync(process.execPath, [bin, 'score'], { encoding: 'utf8' });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /^codefudge: score needs exactly one PAIRS\.jsonl file/);
});
