// A scripted typing session through the real server over stdio: a Python file is opened with a
// stretch of it missing, the stretch is typed back one character per edit, and a completion is
// requested (and awaited) after each edit, as an editor asking at every keystroke would. Reports
// p50/p95 completion latency with the prefix KV-cache reuse on, and again with it off.
//
//   node dist/bench/typing-session.js [--model DIR] [--edits 200] [--max-tokens 8] [--threads N] [--spm]
import { spawn } from 'node:child_process';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import { cliPath } from '../common/index.js';
import { quantile } from '../eval/index.js';
import { windowBudget } from '../server/completion-service.js';
import { DEFAULT_SETTINGS, type Settings } from '../server/settings.js';

export interface TypingBenchOptions {
  model: string;
  /** Edits (typed characters), each followed by a completion request; at least 200 for a report. */
  edits: number;
  maxTokens: number;
  threads?: number;
  mode?: 'single-line' | 'multi-line';
  maxPrefixTokens?: number;
  maxSuffixTokens?: number;
  singleLineSuffixTokens?: number;
  /** Also run a session with the spm prompt order (suffix first), reuse on. */
  spm?: boolean;
  /** The server's `--quant`; undefined: the default for the model's size. */
  quant?: 'int4' | 'int8' | 'none';
  log?: (line: string) => void;
}

/** The server settings the options set: the mode and the window budgets given. */
function windowSettings(o: TypingBenchOptions): Partial<Settings> {
  const given = {
    maxPrefixTokens: o.maxPrefixTokens,
    maxSuffixTokens: o.maxSuffixTokens,
    singleLineSuffixTokens: o.singleLineSuffixTokens,
  };
  return { mode: o.mode ?? 'single-line', ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
}

export interface SessionKind {
  reuse: boolean;
  fimMode: 'psm' | 'spm';
}

export interface LatencySummary {
  p50: number;
  p95: number;
  mean: number;
  max: number;
}

export interface SessionResult extends SessionKind {
  /** Milliseconds from sending each request to its answer, as the client sees it. */
  latency: LatencySummary;
  /** Means over the requests the model answered. */
  promptTokens: number;
  reusedTokens: number;
  /** Requests the completion cache answered (the user typed what had been suggested). */
  cacheAnswers: number;
  requests: number;
  modelLoadMilliseconds: number | null;
  /** The weights' width the server loaded (int4, int8, none). */
  quant: string | null;
}

/** The file typed into: the body of `summarize` is missing and typed back. */
const SOURCE = `"""Order book statistics for the reporting job."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable


@dataclass
class Order:
    order_id: str
    customer: str
    quantity: int
    unit_price: float
    tags: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return self.quantity * self.unit_price


def parse_order(line: str) -> Order:
    parts = line.strip().split(",")
    if len(parts) < 4:
        raise ValueError(f"bad order line: {line!r}")
    order_id, customer, quantity, price = parts[:4]
    return Order(order_id, customer, int(quantity), float(price), parts[4:])


def read_orders(lines: Iterable[str]) -> list[Order]:
    orders = []
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        orders.append(parse_order(line))
    return orders


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def stddev(values: list[float]) -> float:
    if len(values) < 2:
        return 0.0
    m = mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def by_customer(orders: list[Order]) -> dict[str, list[Order]]:
    groups: dict[str, list[Order]] = {}
    for order in orders:
        groups.setdefault(order.customer, []).append(order)
    return groups


def summarize(orders: list[Order]) -> dict[str, float]:
    totals = [order.total for order in orders]
    quantities = [order.quantity for order in orders]
    largest = max(orders, key=lambda order: order.total, default=None)
    summary = {
        "orders": float(len(orders)),
        "revenue": sum(totals),
        "mean_total": mean(totals),
        "stddev_total": stddev(totals),
        "mean_quantity": mean([float(q) for q in quantities]),
    }
    if largest is not None:
        summary["largest_total"] = largest.total
    return summary


def report(orders: list[Order]) -> str:
    lines = []
    for customer, group in sorted(by_customer(orders).items()):
        stats = summarize(group)
        lines.append(f"{customer}: {stats['orders']:.0f} orders, {stats['revenue']:.2f} revenue")
    return "\\n".join(lines)


if __name__ == "__main__":
    import sys

    print(report(read_orders(sys.stdin)))
`;

const TYPED_FROM = SOURCE.indexOf('    totals = [order.total');

export interface TypingScript {
  /** The document as opened: SOURCE without the stretch to type. */
  initial: string;
  /** Where the stretch starts. */
  line: number;
  character: number;
  /** One character per edit. */
  typed: string;
}

export function typingScript(edits: number): TypingScript {
  const typed = SOURCE.slice(TYPED_FROM, TYPED_FROM + edits);
  if (typed.length < edits) throw new Error(`the typing script has only ${SOURCE.length - TYPED_FROM} characters to type`);
  const before = SOURCE.slice(0, TYPED_FROM);
  const line = before.split('\n').length - 1;
  return { initial: before + SOURCE.slice(TYPED_FROM + edits), line, character: TYPED_FROM - (before.lastIndexOf('\n') + 1), typed };
}

function summary(values: number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), mean, max: sorted[sorted.length - 1] ?? NaN };
}

const CLI = cliPath();

/** One session against a fresh server process. */
export async function runSession(o: TypingBenchOptions, { reuse, fimMode }: SessionKind): Promise<SessionResult> {
  const log = o.log ?? (() => undefined);
  const args = [
    CLI,
    'serve',
    '--model',
    o.model,
    ...(o.threads ? ['--threads', String(o.threads)] : []),
    ...(o.quant ? ['--quant', o.quant] : []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const rpc = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  rpc.listen();
  try {
    await rpc.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
      initializationOptions: {
        reusePrefixCache: reuse,
        fimMode,
        debounceMs: 0,
        maxTokens: o.maxTokens,
        ...windowSettings(o),
      },
    });
    rpc.sendNotification('initialized', {});
    const status = () => rpc.sendRequest('workspace/executeCommand', { command: 'codefudge.status' }) as Promise<any>;
    const script = typingScript(o.edits);
    const uri = 'file:///bench/orders.py';
    rpc.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text: script.initial } });
    let pos = { line: script.line, character: script.character };
    const complete = () =>
      rpc.sendRequest('textDocument/completion', { textDocument: { uri }, position: pos, context: { triggerKind: 1 } });
    // Warm-up, not measured: loads (and on first use compiles) the model, and fills the KV cache.
    log(`${fimMode}, ${reuse ? 'with' : 'without'} prefix-cache reuse: loading ${o.model} ...`);
    await complete();
    const loaded = await status();
    if (loaded.model.state !== 'ready') throw new Error(`the model did not load: ${loaded.model.error}`);
    const latencies: number[] = [];
    const prompt: number[] = [];
    const reused: number[] = [];
    let cacheAnswers = 0;
    for (let i = 0; i < script.typed.length; i++) {
      const c = script.typed[i];
      rpc.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: i + 2 },
        contentChanges: [{ range: { start: pos, end: pos }, text: c }],
      });
      pos = c === '\n' ? { line: pos.line + 1, character: 0 } : { line: pos.line, character: pos.character + 1 };
      const t0 = performance.now();
      await complete();
      latencies.push(performance.now() - t0);
      const last = (await status()).lastCompletion;
      if (last?.source === 'cache') cacheAnswers++;
      else if (last) {
        prompt.push(last.promptTokens);
        reused.push(last.reusedTokens);
      }
      if ((i + 1) % 50 === 0) log(`  ${i + 1}/${script.typed.length} edits, p50 so far ${summary(latencies).p50.toFixed(1)} ms`);
    }
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    return {
      reuse,
      fimMode,
      latency: summary(latencies),
      promptTokens: avg(prompt),
      reusedTokens: avg(reused),
      cacheAnswers,
      requests: latencies.length,
      modelLoadMilliseconds: loaded.model.loadMilliseconds,
      quant: loaded.model.quant ?? null,
    };
  } finally {
    await rpc.sendRequest('shutdown').catch(() => undefined);
    rpc.sendNotification('exit');
    rpc.dispose();
    setTimeout(() => child.kill('SIGKILL'), 2000).unref();
  }
}

export async function benchTypingSession(o: TypingBenchOptions): Promise<SessionResult[]> {
  const kinds: SessionKind[] = [
    { reuse: true, fimMode: 'psm' },
    { reuse: false, fimMode: 'psm' },
  ];
  if (o.spm) kinds.push({ reuse: true, fimMode: 'spm' });
  const results: SessionResult[] = [];
  for (const kind of kinds) results.push(await runSession(o, kind));
  return results;
}

export function formatTypingResults(model: string, o: TypingBenchOptions, results: SessionResult[]): string {
  const rows = results.map((r) => [
    `${r.fimMode}, ${r.reuse ? 'with reuse' : 'without reuse'}`,
    r.latency.p50.toFixed(1),
    r.latency.p95.toFixed(1),
    r.latency.mean.toFixed(1),
    r.latency.max.toFixed(1),
    r.promptTokens.toFixed(0),
    r.reusedTokens.toFixed(0),
    String(r.cacheAnswers),
  ]);
  const head = ['prefix cache', 'p50 ms', 'p95 ms', 'mean ms', 'max ms', 'prompt tok', 'reused tok', 'cache answers'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const budget = windowBudget({ ...DEFAULT_SETTINGS, ...windowSettings(o) });
  return [
    `typing session: ${o.edits} edits, a completion after each (max ${o.maxTokens} tokens, ${o.mode ?? 'single-line'}, ` +
      `window budgets ${budget.maxPrefixTokens}+${budget.maxSuffixTokens} tokens, shrunk to fit the model's context: ` +
      `"prompt tok" is the prompt that ran), model ${model}, weights ${results[0]?.quant ?? o.quant ?? '?'}`,
    line(head),
    ...rows.map(line),
  ].join('\n');
}

/** `node dist/bench/typing-session.js --model DIR [--edits N] [--max-tokens N] [--threads N] [--spm] [--json]` */
