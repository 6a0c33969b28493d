// A self-contained HTML page of a fim-eval report: summary table, metric bars per task set,
// distributions of per-task scores, and the best and worst examples side by side. Everything is
// inline (CSS, SVG, a little script); every piece of code or path is escaped.
import type { MetricInfo, MetricKey } from '../fim-metrics.js';
import type { SetSummary } from '../set-summary.js';
import { escapeHtml as esc } from './escape.js';
import { formatInterval, formatSigned, formatValue, verdict } from './format.js';
import type { FimEvalReport, OutputRecord, TaskRecord } from './json-report.js';
import { barChart, histogram, type Series } from './svg-charts.js';
import { boundaryNotes } from './table.js';

const BASE_COLOR = '#4e79a7';
const ADAPTER_COLOR = '#f28e2b';
/** Metrics whose per-task distributions are drawn. */
const DISTRIBUTIONS: readonly MetricKey[] = ['edit_sim', 'chrf', 'cosine', 'iou'];
const EXAMPLES_PER_LIST = 5;

const CSS = `
body{font-family:system-ui,sans-serif;margin:0;padding:20px 28px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:14px;margin:18px 0 8px}h4{font-size:13px;margin:0 0 8px;font-weight:600}h5{font-size:11px;margin:0 0 4px;color:#555;text-transform:uppercase;letter-spacing:.04em}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;font-size:13px;margin:8px 0}dl.meta dt{color:#666}dl.meta dd{margin:0;word-break:break-all}
table.summary{border-collapse:collapse;font-size:12px;font-variant-numeric:tabular-nums}
table.summary th,table.summary td{padding:3px 8px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
table.summary th:first-child,table.summary td:first-child,table.summary td.model{text-align:left}
table.summary tr.group-start td{border-top:1px solid #bbb}
td.better{color:#1a7f37;font-weight:600}td.worse{color:#c62828;font-weight:600}td.ci{color:#666}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{background:#fafafa;border:1px solid #eee;border-radius:4px}
.tabs button{font:inherit;font-size:12px;margin-right:4px;padding:3px 10px;border:1px solid #bbb;background:#f4f4f4;border-radius:3px;cursor:pointer}
.tabs button.active{background:#333;color:#fff;border-color:#333}
.example{border:1px solid #ddd;border-radius:4px;padding:10px;margin:0 0 12px}
.cols{display:grid;gap:8px}.cols-3{grid-template-columns:2fr 1fr 1fr}.cols-4{grid-template-columns:2fr 1fr 1fr 1fr}
pre.code{margin:0;padding:6px;background:#f6f8fa;border:1px solid #eee;border-radius:3px;font-size:11px;line-height:1.35;white-space:pre-wrap;word-break:break-all;max-height:260px;overflow:auto}
pre.ctx{color:#666}pre.expected{background:#eef7ee}span.empty{color:#999;font-style:italic}
.tag{display:inline-block;font-size:11px;background:#eee;border-radius:3px;padding:1px 6px;margin-left:6px;font-weight:400}
.note{font-size:12px;color:#555}.warn{color:#a15c00;font-weight:600}
`;

// Records script errors where a headless check can read them, then wires the distribution tabs.
const ERROR_HOOK = `window.addEventListener('error',function(e){document.documentElement.setAttribute('data-js-error',String(e.message||e));});`;
const SCRIPT = `
(function(){
  document.querySelectorAll('.tabs').forEach(function(tabs){
    var panels=document.querySelectorAll('[data-dist]');
    function show(key){
      panels.forEach(function(p){p.style.display=p.getAttribute('data-dist')===key?'':'none';});
      tabs.querySelectorAll('button').forEach(function(b){b.classList.toggle('active',b.getAttribute('data-key')===key);});
    }
    tabs.querySelectorAll('button').forEach(function(b){b.addEventListener('click',function(){show(b.getAttribute('data-key'));});});
    var first=tabs.querySelector('button');if(first)show(first.getAttribute('data-key'));
  });
  document.documentElement.setAttribute('data-ready','1');
})();`;

function metricOf(report: FimEvalReport, key: MetricKey): MetricInfo {
  return report.metrics.find((m) => m.key === key)!;
}

function summaryTable(report: FimEvalReport): string {
  const paired = report.model.adapter !== null;
  const level = Math.round(report.options.bootstrap.level * 100);
  const head = `<tr><th>task set</th><th>tasks</th>${paired ? '<th>model</th>' : ''}${report.metrics.map((m) => `<th title="${esc(m.title)}">${esc(m.label)}</th>`).join('')}</tr>`;
  const rows: string[] = [];
  const cells = (s: SetSummary, which: 'base' | 'adapter') =>
    report.metrics.map((m) => `<td>${s.tasks ? formatValue(m, s[which]![m.key]) : '-'}</td>`).join('');
  for (const s of [...report.sets, report.overall]) {
    const name = `<td>${esc(s.name)}</td><td>${s.tasks}</td>`;
    if (!paired || !s.adapter || !s.delta) {
      rows.push(`<tr class="group-start">${name}${cells(s, 'base')}</tr>`);
      continue;
    }
    const delta = s.delta;
    rows.push(`<tr class="group-start">${name}<td class="model">base</td>${cells(s, 'base')}</tr>`);
    rows.push(`<tr><td></td><td></td><td class="model">adapter</td>${cells(s, 'adapter')}</tr>`);
    rows.push(
      `<tr><td></td><td></td><td class="model">Δ</td>${report.metrics.map((m) => `<td class="${verdict(m, delta[m.key])}">${s.tasks ? formatSigned(m, delta[m.key].value) : '-'}</td>`).join('')}</tr>`,
    );
    rows.push(
      `<tr><td></td><td></td><td class="model">${level}% CI</td>${report.metrics.map((m) => `<td class="ci">${formatInterval(m, delta[m.key])}</td>`).join('')}</tr>`,
    );
  }
  return `<table class="summary">${head}${rows.join('')}</table>`;
}

function series(report: FimEvalReport): Series[] {
  return report.model.adapter !== null
    ? [
        { label: 'base', color: BASE_COLOR },
        { label: 'adapter', color: ADAPTER_COLOR },
      ]
    : [{ label: 'model', color: BASE_COLOR }];
}

function metricBars(report: FimEvalReport): string {
  const sets = [...report.sets, report.overall].filter((s) => s.tasks > 0);
  return report.metrics
    .map((m) => {
      const values = sets.flatMap((s) => [s.base[m.key], ...(s.adapter ? [s.adapter[m.key]] : [])]);
      const max = m.scale === 100 ? 100 : Math.max(1, ...values.filter(Number.isFinite));
      return barChart({
        title: m.label,
        series: series(report),
        max,
        format: (v) => (m.scale === 100 ? v.toFixed(0) : v.toFixed(2)),
        groups: sets.map((s) => ({
          label: s.name,
          bars: [
            { value: s.base[m.key] },
            ...(s.adapter && s.delta
              ? [{ value: s.adapter[m.key], low: s.base[m.key] + s.delta[m.key].low, high: s.base[m.key] + s.delta[m.key].high }]
              : []),
          ],
        })),
      });
    })
    .join('');
}

function distributions(report: FimEvalReport): string {
  const tabs = DISTRIBUTIONS.map((k) => `<button type="button" data-key="${k}">${esc(metricOf(report, k).label)}</button>`).join('');
  const panels = DISTRIBUTIONS.map((k) => {
    const m = metricOf(report, k);
    const charts = [...report.sets.filter((s) => s.tasks > 0).map((s) => s.name), 'all'].map((name) => {
      const tasks = name === 'all' ? report.tasks : report.tasks.filter((t) => t.set === name);
      return histogram({
        title: `${m.label} per task: ${name} (${tasks.length})`,
        min: m.key === 'cosine' ? -1 : 0,
        max: m.scale,
        format: (v) => (m.scale === 100 ? v.toFixed(0) : v.toFixed(1)),
        series: series(report).map((s, i) => ({
          ...s,
          values: tasks.map((t) => (i === 0 ? t.base : t.adapter!).scores[k]),
        })),
      });
    });
    return `<div class="charts" data-dist="${k}">${charts.join('')}</div>`;
  });
  return `<div class="tabs">${tabs}</div><p class="note">Per-task scores (chrF is the sentence score, 0-100).</p>${panels.join('')}`;
}

function code(text: string, cls = ''): string {
  return `<pre class="code ${cls}">${text === '' ? '<span class="empty">(empty)</span>' : esc(text)}</pre>`;
}

function example(report: FimEvalReport, t: TaskRecord, by: MetricKey): string {
  const m = metricOf(report, by);
  const score = (o: OutputRecord | undefined, label: string) => (o ? `${label} ${formatValue(m, o.scores[by])}` : '');
  const header = `<h4><code>${esc(t.path)}:${t.line}</code>${t.sha ? ` <code>@${esc(t.sha.slice(0, 10))}</code>` : ''}<span class="tag">${esc(t.set)}</span><span class="tag">${esc(m.label)}: ${[score(t.base, t.adapter ? 'base' : ''), score(t.adapter, 'adapter')].filter(Boolean).join(' → ')}</span></h4>`;
  const cols = [
    `<div><h5>prefix (end)</h5>${code(t.context.before, 'ctx')}<h5 style="margin-top:6px">suffix (start)</h5>${code(t.context.after, 'ctx')}</div>`,
    `<div><h5>expected</h5>${code(t.expected, 'expected')}</div>`,
    `<div><h5>generated${t.adapter ? ' (base)' : ''}</h5>${code(t.base.text)}</div>`,
    ...(t.adapter ? [`<div><h5>generated (adapter)</h5>${code(t.adapter.text)}</div>`] : []),
  ];
  return `<article class="example">${header}<div class="cols cols-${cols.length}">${cols.join('')}</div></article>`;
}

/** Best and worst tasks by edit similarity of the last column (the adapter's when there is one); with an adapter, also the largest gains and losses. */
export function exampleLists(report: FimEvalReport): Array<{ title: string; tasks: TaskRecord[] }> {
  const key: MetricKey = 'edit_sim';
  const main = (t: TaskRecord) => (t.adapter ?? t.base).scores[key];
  const byId = (a: TaskRecord, b: TaskRecord) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const sorted = [...report.tasks].sort((a, b) => main(b) - main(a) || byId(a, b));
  const k = Math.min(EXAMPLES_PER_LIST, Math.ceil(sorted.length / 2));
  const best = sorted.slice(0, k);
  const worst = sorted
    .slice(k)
    .reverse()
    .slice(0, Math.min(EXAMPLES_PER_LIST, sorted.length - k));
  const lists = [
    { title: 'Best examples (highest edit similarity)', tasks: best },
    { title: 'Worst examples (lowest edit similarity)', tasks: worst },
  ];
  if (report.model.adapter !== null) {
    const gain = (t: TaskRecord) => t.adapter!.scores[key] - t.base.scores[key];
    const byGain = [...report.tasks].sort((a, b) => gain(b) - gain(a) || byId(a, b));
    lists.push({ title: 'Largest gains from the adapter', tasks: byGain.filter((t) => gain(t) > 0).slice(0, EXAMPLES_PER_LIST) });
    lists.push({
      title: 'Largest losses from the adapter',
      tasks: byGain
        .filter((t) => gain(t) < 0)
        .reverse()
        .slice(0, EXAMPLES_PER_LIST),
    });
  }
  return lists;
}

function meta(report: FimEvalReport): string {
  const d = report.options.decoding;
  const decoding =
    (d.numBeams ?? 1) > 1
      ? `beam search, ${d.numBeams} beams`
      : (d.temperature ?? 0) > 0
        ? `sampling, temperature ${d.temperature}, top-k ${d.topK ?? 0}, top-p ${d.topP ?? 1}, seed ${d.seed ?? 0}`
        : 'greedy';
  const items: Array<[string, string]> = [
    ['source', `${report.source.path} (${report.source.files} files${report.source.git ? ', git' : ''})`],
    ['model', `${report.model.dir} (FIM template: ${report.model.fimFamily})`],
    ['adapter', report.model.adapter ?? 'none'],
    ['task sets', report.options.sets.join(', ')],
    ['tasks', `${report.tasks.length} (limit ${report.options.limit || 'none'} per set, seed ${report.options.seed})`],
    ['decoding', `${decoding}; max new tokens ${d.maxNewTokens ?? 'by stop rule (line 48, block 128, span 64)'}`],
    [
      'boundaries',
      Object.entries(report.source.boundaries)
        .map(([l, s]) => `${l}: ${s}`)
        .join(', ') || '-',
    ],
    ...(report.source.temporal
      ? [
          ['temporal', `held-out commits ${report.source.temporal.heldoutCommits}, cutoff ${report.source.temporal.cutoffSha ?? '-'}`] as [
            string,
            string,
          ],
        ]
      : []),
    ['run', `${report.created}, ${report.seconds} s`],
  ];
  return `<dl class="meta">${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

export function renderHtmlReport(report: FimEvalReport): string {
  const warnings = boundaryNotes(report)
    .map((w) => `<p class="note warn">${esc(w)}</p>`)
    .join('');
  const level = Math.round(report.options.bootstrap.level * 100);
  const examples = exampleLists(report)
    .map(
      (l) =>
        `<h3>${esc(l.title)}</h3>${l.tasks.length ? l.tasks.map((t) => example(report, t, 'edit_sim')).join('') : '<p class="note">none</p>'}`,
    )
    .join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>codefudge fim-eval report</title>
<script>${ERROR_HOOK}</script>
<style>${CSS}</style></head>
<body>
<h1>codefudge fim-eval</h1>
${meta(report)}${warnings}
<h2 id="summary">Summary</h2>
${summaryTable(report)}
<p class="note">chrF and BLEU are on 0-100 and pooled over a set's tasks (as is WER); EM, EM1, IoU, EditSim and cos are means over tasks. cos: cosine of the mean-pooled final hidden states of generated and expected text, judged by the base model.${report.model.adapter !== null ? ` Δ = adapter − base; ${level}% CI by paired bootstrap over tasks (${report.options.bootstrap.resamples} resamples).` : ''}</p>
<h2 id="metrics">Metrics per task set</h2>
<div class="charts" id="metric-bars">${metricBars(report)}</div>
${report.model.adapter !== null ? `<p class="note">Whiskers: the ${level}% interval of the difference, drawn around the adapter's bar (base + interval).</p>` : ''}
<h2 id="distributions">Distributions</h2>
${distributions(report)}
<h2 id="examples">Examples</h2>
${examples}
<script>${SCRIPT}</script>
</body></html>
`;
}
