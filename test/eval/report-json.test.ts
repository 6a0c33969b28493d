import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exampleLists, formatTable, FIM_METRICS, renderHtmlReport, REPORT_FORMAT } from '../../eval/index.js';
import { HOSTILE, syntheticReport } from '../helpers/report-fixtures.js';

const paired = await syntheticReport(true);
const single = await syntheticReport(false);
const METRICS = FIM_METRICS.map((m) => m.key);

describe('JSON report', () => {
  it('has the run, the sets, the aggregates and every task with its outputs', () => {
    const r = JSON.parse(JSON.stringify(paired));
    assert.equal(r.format, REPORT_FORMAT);
    assert.equal(r.version, 1);
    assert.equal(r.created, '2026-01-02T03:04:05.000Z');
    assert.deepEqual(Object.keys(r).sort(), [
      'created',
      'format',
      'metrics',
      'model',
      'options',
      'overall',
      'seconds',
      'sets',
      'source',
      'tasks',
      'version',
    ]);
    assert.deepEqual(r.model, { dir: '/models/tiny', adapter: '/adapters/a', fimFamily: 'starcoder' });
    assert.deepEqual(
      r.metrics.map((m: { key: string }) => m.key),
      METRICS,
    );
    assert.deepEqual(
      r.sets.map((s: { name: string }) => s.name),
      ['function-line', 'single-line', 'multi-line', 'random-span'],
    );
    let total = 0;
    for (const s of r.sets) {
      assert.equal(s.tasks, r.tasks.filter((t: { set: string }) => t.set === s.name).length);
      assert.equal(s.candidates, s.tasks, 'no limit: every candidate is a task');
      assert.deepEqual(Object.keys(s.base).sort(), [...METRICS].sort());
      assert.deepEqual(Object.keys(s.delta).sort(), [...METRICS].sort());
      for (const k of METRICS) {
        assert.ok(Math.abs(s.delta[k].value - (s.adapter[k] - s.base[k])) < 1e-12);
        assert.ok(s.delta[k].low <= s.delta[k].high);
      }
      total += s.tasks;
    }
    assert.equal(r.overall.name, 'all');
    assert.equal(r.overall.tasks, total);
    assert.equal(r.tasks.length, total);
    for (const t of r.tasks) {
      assert.deepEqual(Object.keys(t).sort(), [
        'adapter',
        'base',
        'context',
        'end',
        'expected',
        'id',
        'language',
        'line',
        'path',
        'set',
        'start',
        'stop',
      ]);
      assert.deepEqual(Object.keys(t.base).sort(), ['milliseconds', 'reason', 'scores', 'text', 'tokens']);
      assert.deepEqual(Object.keys(t.base.scores).sort(), [...METRICS].sort());
      assert.equal(t.end - t.start, t.expected.length);
      assert.ok(t.context.before.length <= t.start);
    }
  });

  it('leaves the adapter fields out without an adapter', () => {
    assert.equal(single.model.adapter, null);
    assert.ok(single.sets.every((s) => s.adapter === undefined && s.delta === undefined));
    assert.ok(single.tasks.every((t) => t.adapter === undefined));
  });
});

describe('terminal table', () => {
  it('one row per set and all, columns per metric', () => {
    const lines = formatTable(single).split('\n');
    assert.deepEqual(lines[0].split(/\s{2,}/), ['task set', 'tasks', ...FIM_METRICS.map((m) => m.label)]);
    const rows = lines.slice(1, 6).map((l) => l.split(/\s{2,}/));
    assert.deepEqual(
      rows.map((r) => r[0]),
      ['function-line', 'single-line', 'multi-line', 'random-span', 'all'],
    );
    const em = single.sets[1].base.exact_match.toFixed(3);
    assert.equal(rows[1][2], em);
    assert.equal(rows[4][1], String(single.tasks.length));
    assert.match(formatTable(single), /HEURISTIC/);
  });

  it('shows a set without tasks as dashes, not zeros', () => {
    const empty = { name: 'temporal', tasks: 0, candidates: 0, base: { ...single.sets[0].base } };
    const lines = formatTable({ ...single, sets: [...single.sets, empty] }).split('\n');
    const row = lines.find((l) => l.startsWith('temporal'))!.split(/\s+/);
    assert.deepEqual(row, ['temporal', '0', ...FIM_METRICS.map(() => '-')]);
  });

  it('base, adapter, difference and interval rows per set with an adapter', () => {
    const lines = formatTable(paired).split('\n');
    assert.deepEqual(lines[0].split(/\s{2,}/).slice(0, 3), ['task set', 'tasks', 'model']);
    const group = lines.slice(1, 5).map((l) => l.trim().split(/\s{2,}/));
    assert.equal(group[0][0], 'function-line');
    assert.equal(group[0][2], 'base');
    assert.equal(group[1][0], 'adapter');
    assert.equal(group[2][0], 'Δ');
    assert.equal(group[3][0], '95% CI');
    const s = paired.sets[0];
    const chrf = FIM_METRICS.findIndex((m) => m.key === 'chrf');
    assert.equal(group[2][1 + chrf], `${s.delta!.chrf.value < 0 ? '-' : '+'}${Math.abs(s.delta!.chrf.value).toFixed(1)}`);
    assert.match(group[3][1 + chrf], /^\[[+-]\d+\.\d,[+-]\d+\.\d\]$/);
    assert.match(lines.join('\n'), /paired bootstrap over tasks \(200 resamples, seed 0\)/);
  });
});

describe('HTML report', () => {
  const html = renderHtmlReport(paired);

  it('is self-contained: no external resources', () => {
    assert.doesNotMatch(html, /\b(src|href)\s*=\s*["']?(https?:|\/\/)/i);
    assert.doesNotMatch(html, /@import|url\(/i);
    assert.doesNotMatch(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, ''), /https?:\/\//);
  });

  it('escapes code and paths', () => {
    // Only the hostile file's tasks, so each of them is shown as an example.
    const hostile = { ...paired, tasks: paired.tasks.filter((t) => t.path.startsWith('web/')) };
    assert.ok(hostile.tasks.length >= 4 && hostile.tasks.length <= 10);
    const html = renderHtmlReport(hostile);
    assert.equal(html.split('<script>').length - 1, 2, "only the report's own two scripts");
    assert.ok(!html.includes(HOSTILE));
    assert.ok(html.includes('&lt;/script&gt;&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;&lt;b&gt;&amp;amp;&lt;/b&gt;'));
    assert.ok(html.includes('web/&lt;evil&gt;.py'));
  });

  it('has a chart per metric, distributions and examples with prefix, expected and both generations', () => {
    assert.equal((html.match(/<svg /g) ?? []).length, FIM_METRICS.length + 4 * (paired.sets.length + 1));
    const lists = exampleLists(paired);
    assert.deepEqual(
      lists.map((l) => l.title),
      [
        'Best examples (highest edit similarity)',
        'Worst examples (lowest edit similarity)',
        'Largest gains from the adapter',
        'Largest losses from the adapter',
      ],
    );
    const best = lists[0].tasks;
    assert.ok(best.length === 5 && best.every((t, i) => i === 0 || t.adapter!.scores.edit_sim <= best[i - 1].adapter!.scores.edit_sim));
    assert.ok(lists[3].tasks.every((t) => t.adapter!.scores.edit_sim < t.base.scores.edit_sim));
    const articles = html.match(/<article class="example">/g) ?? [];
    assert.equal(
      articles.length,
      lists.reduce((n, l) => n + l.tasks.length, 0),
    );
    for (const h of ['prefix (end)', 'expected', 'generated (base)', 'generated (adapter)']) assert.ok(html.includes(`<h5>${h}</h5>`), h);
  });
});
