// `codefudge bench http`: `codefudge serve --http` as its own process, loaded by 1, 4 and 16
// concurrent clients sending completions back to back; requests/s and p50/p95 latency per level,
// beside the same completions run in-process one at a time (what the LSP server does).
import { spawn, type ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import { Completer } from '../engine/index.js';
import { quantile } from '../eval/index.js';
import { cliPath } from '../common/index.js';

export interface HttpBenchOptions {
  model: string;
  /** Requests per concurrency level. */
  requests: number;
  maxTokens: number;
  concurrency: number[];
  stream: boolean;
  threads?: number;
  log?: (line: string) => void;
}

export interface LevelResult {
  clients: number;
  requests: number;
  requestsPerSecond: number;
  p50: number;
  p95: number;
}

export interface HttpBenchResult {
  inProcess: { requests: number; requestsPerSecond: number; p50: number; p95: number };
  levels: LevelResult[];
}

const CLI = cliPath();

/** Cursor positions in small Python files: the editor's usual request, a FIM prompt around a line start. */
const FILES = [
  'import os\n\n\ndef read_lines(path):\n    with open(path) as f:\n        return f.read().splitlines()\n\n\ndef count_words(path):\n    total = 0\n    for line in read_lines(path):\n        total += len(line.split())\n    return total\n',
  'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n        self.items.append(item)\n\n    def pop(self):\n        return self.items.pop()\n\n    def __len__(self):\n        return len(self.items)\n',
  'def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n\nif __name__ == "__main__":\n    print(fib(10))\n',
];

/** `count` (prefix, suffix) pairs: each file cut at the start of each of its indented lines, in turn. */
export function benchPrompts(count: number): { prefix: string; suffix: string }[] {
  const cuts: { prefix: string; suffix: string }[] = [];
  for (const text of FILES) {
    for (let at = text.indexOf('\n    '); at >= 0; at = text.indexOf('\n    ', at + 1)) {
      const cursor = at + 5;
      const lineEnd = text.indexOf('\n', cursor);
      cuts.push({ prefix: text.slice(0, cursor), suffix: text.slice(lineEnd) });
    }
  }
  return Array.from({ length: count }, (_, i) => cuts[i % cuts.length]);
}

function summary(ms: number[], wallMs: number) {
  const sorted = [...ms].sort((a, b) => a - b);
  return { requests: ms.length, requestsPerSecond: ms.length / (wallMs / 1000), p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) };
}

async function startServer(o: HttpBenchOptions): Promise<{ url: string; child: ChildProcess }> {
  const args = [CLI, 'serve', '--http', '--port', '0', '--model', o.model, ...(o.threads ? ['--threads', `${o.threads}`] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`serve --http exited (${code}): ${err.trim().split('\n').pop()}`)));
  });
  return { url, child };
}

/** One completion over HTTP, read to its end; milliseconds from sending to the last byte. */
async function request(url: string, model: string, p: { prefix: string; suffix: string }, o: HttpBenchOptions): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model,
      prompt: p.prefix,
      suffix: p.suffix,
      max_tokens: o.maxTokens,
      temperature: 0,
      stop: ['\n'],
      stream: o.stream,
    }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`server answered ${res.status}: ${text.slice(0, 200)}`);
  return performance.now() - t0;
}

export async function benchHttp(o: HttpBenchOptions): Promise<HttpBenchResult> {
  const log = o.log ?? (() => undefined);
  const prompts = benchPrompts(o.requests);
  log(`in-process: ${o.requests} completions one at a time`);
  const completer = await Completer.load(o.model, { threads: o.threads });
  let inProcess;
  try {
    // Warm-up: the first run of a graph pays for allocations.
    await completer.complete({ ...prompts[0], maxNewTokens: o.maxTokens, stopStrings: ['\n'], fimMode: completer.preferredFimMode });
    const ms: number[] = [];
    const t0 = performance.now();
    for (const p of prompts) {
      const t = performance.now();
      await completer.complete({ ...p, maxNewTokens: o.maxTokens, stopStrings: ['\n'], fimMode: completer.preferredFimMode });
      ms.push(performance.now() - t);
    }
    inProcess = summary(ms, performance.now() - t0);
  } finally {
    await completer.release();
  }
  const { url, child } = await startServer(o);
  const model = basename(o.model);
  const levels: LevelResult[] = [];
  try {
    await request(url, model, prompts[0], o);
    for (const clients of o.concurrency) {
      log(`${clients} client${clients === 1 ? '' : 's'}: ${o.requests} requests`);
      const ms: number[] = [];
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          for (let i = next++; i < prompts.length; i = next++) ms.push(await request(url, model, prompts[i], o));
        }),
      );
      levels.push({ clients, ...summary(ms, performance.now() - t0) });
    }
  } finally {
    child.kill('SIGTERM');
  }
  return { inProcess, levels };
}

export function formatHttpBench(o: HttpBenchOptions, r: HttpBenchResult): string {
  const f = (x: number) => x.toFixed(1).padStart(8);
  return [
    `codefudge bench http: ${basename(o.model)}, ${o.maxTokens} tokens at most per completion (stop at end of line), ${o.requests} requests per row${o.stream ? ', streamed' : ''}`,
    `                 req/s   p50 ms   p95 ms`,
    `in-process    ${f(r.inProcess.requestsPerSecond)} ${f(r.inProcess.p50)} ${f(r.inProcess.p95)}   (one at a time, no HTTP)`,
    ...r.levels.map(
      (l) => `${`${l.clients} client${l.clients === 1 ? '' : 's'}`.padEnd(14)}${f(l.requestsPerSecond)} ${f(l.p50)} ${f(l.p95)}`,
    ),
  ].join('\n');
}
